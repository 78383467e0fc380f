// ORIGIN: compiler-rt/test/asan/TestCases/vla_chrome_testcase.cpp
// EXPECT: alloca-out-of-bounds Write
// EXPECT-SIZE: 4
#include <assert.h>
#include <stdint.h>
int a = 7;
int b;
int c;
int *p;
__attribute__((noinline)) void fn3(int *first, int second) {}
int main() {
  int d = b && c;
  int e[a];
  assert(!((uintptr_t)e & 31L));
  int f;
  if (d) fn3(&f, sizeof 0 * (&c - e));
  ((volatile int *)e)[a] = 0;
  return 0;
}
