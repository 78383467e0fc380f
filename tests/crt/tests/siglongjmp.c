// ORIGIN: compiler-rt/test/asan/TestCases/longjmp.cpp (siglongjmp out of a signal handler)
// A SIGALRM handler with a local array siglongjmps to main; main's later deep frame reuses
// the handler's stack: no report.
// EXPECT: silent
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
static sigjmp_buf env;
static void handler(int sig) {
  char x[64];
  memset(x, 1, sizeof x);
  __asm__ volatile("" ::"r"(x) : "memory");
  siglongjmp(env, 1);
}
__attribute__((noinline)) static void touch(void) {
  char big[16384];
  volatile char *p = big;
  for (int i = 0; i < (int)sizeof big; i++) p[i] = i;
}
int main() {
  signal(SIGUSR1, handler);
  if (sigsetjmp(env, 1) == 0) raise(SIGUSR1);
  touch();
  return 0;
}
