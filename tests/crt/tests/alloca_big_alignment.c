// ORIGIN: compiler-rt/test/asan/TestCases/alloca_big_alignment.cpp
// VLA of 10 chars aligned(128), write at index 10. ASan: dynamic-stack-buffer-overflow;
// Linux KASAN: alloca-out-of-bounds (KASAN_ALLOCA_LEFT/RIGHT redzones).
// EXPECT: alloca-out-of-bounds Write
// EXPECT-SIZE: 1
#include <assert.h>
#include <stdint.h>
__attribute__((noinline)) void foo(int index, int len) {
  volatile char str[len] __attribute__((aligned(128)));
  assert(!((uintptr_t)str & (128 - 1)));
  str[index] = '1'; // BOOM
}
int main(int argc, char **argv) {
  foo(10, 10);
  return 0;
}
