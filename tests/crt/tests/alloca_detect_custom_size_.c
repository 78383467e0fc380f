// ORIGIN: compiler-rt/test/asan/TestCases/alloca_detect_custom_size_.cpp
// EXPECT: alloca-out-of-bounds Write
// EXPECT-SIZE: 1
#include <assert.h>
#include <stdint.h>
struct A {
  char a[3];
  int b[3];
};
__attribute__((noinline)) void foo(int index, int len) {
  volatile struct A str[len] __attribute__((aligned(32)));
  assert(!((uintptr_t)str & 31L));
  str[index].a[0] = '1'; // BOOM
}
int main(int argc, char **argv) {
  foo(10, 10);
  return 0;
}
