// ORIGIN: compiler-rt/test/asan/TestCases/throw_catch.cpp
// After throw/catch (inline and across frames), the stack the unwound frames used must be
// clean: the original asserts !__asan_address_is_poisoned(x + 32); here a deeper frame
// writes the whole area afterwards.
// EXPECT: silent
// EXPECT-TEXT: Catch
#include <stdio.h>
#include <string.h>
__attribute__((noinline)) void Throw() {
  char local[64];
  memset(local, 0, sizeof local);
  __asm__ volatile("" ::"r"(local) : "memory");
  fprintf(stderr, "Throw:  %p\n", local);
  throw 1;
}
__attribute__((noinline)) void Deep(int n) {
  char pad[128];
  memset(pad, 0, sizeof pad);
  __asm__ volatile("" ::"r"(pad) : "memory");
  if (n == 0) Throw();
  Deep(n - 1);
}
__attribute__((noinline)) void ThrowAndCatch() {
  int local;
  try {
    Deep(8);
  } catch (...) {
    fprintf(stderr, "Catch:  %p\n", &local);
  }
}
__attribute__((noinline)) void Touch() {
  char big[8192];
  volatile char *p = big;
  for (int i = 0; i < (int)sizeof big; i++) p[i] = i;
}
__attribute__((noinline)) void TestThrow() {
  char x[32];
  memset(x, 0, sizeof x);
  ThrowAndCatch();
  Touch();
  ((volatile char *)x)[31] = 1;
}
__attribute__((noinline)) void TestThrowInline() {
  char x[32];
  memset(x, 0, sizeof x);
  try {
    Deep(8);
  } catch (...) {
    fprintf(stderr, "Catch\n");
  }
  Touch();
  ((volatile char *)x)[31] = 1;
}
int main(int argc, char **argv) {
  TestThrowInline();
  TestThrow();
  return 0;
}
