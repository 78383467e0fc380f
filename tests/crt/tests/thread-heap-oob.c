// ORIGIN: compiler-rt/test/asan/TestCases/Posix/deep_thread_stack.cpp (heap overflow on a thread; the report names the thread's task)
// EXPECT: slab-out-of-bounds Write
// EXPECT-IN: worker
#include <pthread.h>
#include <stdlib.h>
static void *worker(void *a) {
  char *volatile p = malloc(24);
  ((volatile char *)p)[24] = 1;
  free(p);
  return 0;
}
int main() {
  pthread_t t;
  pthread_create(&t, 0, worker, 0);
  pthread_join(t, 0);
  return 0;
}
