// ORIGIN: compiler-rt/test/asan/TestCases/double-free.cpp (second free on another thread)
// EXPECT: double-free -
// EXPECT-TEXT: Freed by task
#include <pthread.h>
#include <stdlib.h>
static void *volatile p;
static void *f(void *a) { free(p); return 0; }
int main() {
  p = malloc(40);
  free(p);
  pthread_t t;
  pthread_create(&t, 0, f, 0);
  pthread_join(t, 0);
  return 0;
}
