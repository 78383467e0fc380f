// ORIGIN: compiler-rt/test/asan/TestCases/alloca_instruments_all_paddings.cpp
// The original asks __asan_region_is_poisoned(str, 64) == str + len for len 1..32. Without
// that API: every VLA of len 1..32 must report a write at str[len] (the first byte of the
// right redzone), 64 reports in multi-shot mode, and nothing at str[len-1].
// OPTIONS: kasan_multi_shot
// EXPECT: alloca-out-of-bounds Write
// EXPECT-COUNT: 64
#include <assert.h>
#include <stdint.h>
__attribute__((noinline)) void foo(int index, int len) {
  volatile char str[len] __attribute__((aligned(32)));
  assert(!((uintptr_t)str & 31L));
  str[index - 1] = 1;  // fine
  str[index] = 1;      // first byte of the redzone
}
int main(int argc, char **argv) {
  for (int i = 1; i < 33; ++i) foo(i, i);
  for (int i = 1; i < 33; ++i) foo(i, i);
  return 0;
}
