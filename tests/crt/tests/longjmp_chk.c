// ORIGIN: compiler-rt/test/asan/TestCases/Linux/longjmp_chk.c
// Same with _FORTIFY_SOURCE (longjmp becomes __longjmp_chk).
// CFLAGS: -D_FORTIFY_SOURCE=2
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
  return 0;
}
