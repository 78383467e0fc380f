// ORIGIN: compiler-rt/test/asan/TestCases (signals: a bug inside a signal handler on a sigaltstack; cf. Posix/halt_on_error-signals.c, unpoison-alternate-stack.cpp)
// EXPECT: slab-out-of-bounds Write
// EXPECT-IN: handler
// EXPECT-STDOUT: after signal
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
static char *volatile buf;
static void handler(int sig) { buf[16] = 1; }
int main() {
  static char altstack[65536];
  stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack};
  sigaltstack(&ss, 0);
  struct sigaction sa = {0};
  sa.sa_handler = handler;
  sa.sa_flags = SA_ONSTACK;
  sigaction(SIGUSR1, &sa, 0);
  buf = malloc(16);
  raise(SIGUSR1);
  printf("after signal\n");
  return 0;
}
