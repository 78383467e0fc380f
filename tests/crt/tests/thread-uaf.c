// ORIGIN: compiler-rt/test/asan/TestCases (threads: free on one thread, use on another; cf. deep_thread_stack.cpp)
// EXPECT: slab-use-after-free Read
// EXPECT-TEXT: Freed by task
#include <pthread.h>
#include <stdlib.h>
static char *volatile p;
static void *freer(void *a) { free(p); return 0; }
int main() {
  p = (char *)malloc(32);
  pthread_t t;
  pthread_create(&t, 0, freer, 0);
  pthread_join(t, 0);
  return p[3];
}
