// ORIGIN: compiler-rt/test/asan/TestCases/Posix/concurrent_overflow.cpp
// 8 threads hit a stack overflow at the same moment: one clean report, no "nested bug"
// noise, no deadlock.
// EXPECT: stack-out-of-bounds Read
// EXPECT-NOTEXT: nested
// EXPECT-COUNT: 1
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
static void *start_routine(void *arg) {
  volatile int *counter = (volatile int *)arg;
  volatile char buf[8];
  __atomic_sub_fetch(counter, 1, __ATOMIC_SEQ_CST);
  while (*counter)
    ;
  volatile int nine = 9;
  buf[0] = buf[nine];
  return 0;
}
int main(void) {
  enum { n_threads = 8 };
  int i, counter = n_threads;
  pthread_t thread[n_threads];
  for (i = 0; i < n_threads; ++i) pthread_create(&thread[i], NULL, &start_routine, (void *)&counter);
  for (i = 0; i < n_threads; ++i) pthread_join(thread[i], NULL);
  return 0;
}
