// ORIGIN: compiler-rt/test/asan/TestCases/vla_condition_overflow.cpp
// EXPECT: alloca-out-of-bounds Write
// EXPECT-SIZE: 1
#include <assert.h>
#include <stdint.h>
__attribute__((noinline)) void foo(int index, int len) {
  if (index > len) {
    volatile char str[len];
    assert(!((uintptr_t)str & 31L));
    str[index] = '1'; // BOOM
  }
}
int main(int argc, char **argv) {
  foo(33, 10);
  return 0;
}
