// ORIGIN: compiler-rt/test/asan/TestCases/longjmp.cpp
// After longjmp out of a deeper frame with redzones, the stack the deeper frames used
// must be clean (the original asks __asan_address_is_poisoned(x + 32) == 0).
// EXPECT: silent
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
static jmp_buf buf;
__attribute__((noinline)) static void deep(int n) {
  char x[32];
  memset(x, 0, sizeof x);
  __asm__ volatile("" ::"r"(x) : "memory");
  if (n == 0) longjmp(buf, 1);
  deep(n - 1);
}
__attribute__((noinline)) static void touch(void) {
  char big[4096];
  volatile char *p = big;
  for (int i = 0; i < 4096; i++) p[i] = i;
}
int main() {
  if (0 == setjmp(buf)) deep(10);
  touch();
  fprintf(stderr, "ok\n");
  return 0;
}
