// ORIGIN: compiler-rt/test/asan/TestCases/Posix/halt_on_error-signals.c
// Bugs reported concurrently from main code and from a signal handler interrupting it
// (kasan_multi_shot = recovery mode): every report whole, no deadlock, program finishes.
// OPTIONS: kasan_multi_shot
// EXPECT: (stack|slab)-out-of-bounds -
// EXPECT-STDOUT: finished
// TIMEOUT: 60
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <unistd.h>
static volatile int ten = 10;
static volatile int sigs;
static char *volatile heapbuf;
static void error(void) {
  volatile char x[10];
  x[ten] = 1;
}
static void handler(int sig) { sigs++; heapbuf[ten + 6] = 1; }
int main() {
  heapbuf = malloc(16);
  signal(SIGALRM, handler);
  struct itimerval it = {{0, 1000}, {0, 1000}};
  setitimer(ITIMER_REAL, &it, 0);
  for (int i = 0; i < 300; i++) error();
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, 0);
  printf("finished (%d signals)\n", sigs);
  return 0;
}
