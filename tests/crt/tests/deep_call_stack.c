// ORIGIN: compiler-rt/test/asan/TestCases/Posix/deep_call_stack.cpp
// A 100000-deep recursion on a 64 MiB thread stack followed by a UAF: the report (and its
// stack collection) must work with a very deep stack (depth capped by kasan.stack_depth).
// EXPECT: slab-use-after-free Read
#include <pthread.h>
#include <stdlib.h>
static char *volatile p;
__attribute__((noinline)) static int rec(int n) {
  volatile char pad[16];
  pad[0] = n;
  if (n == 0) return p[0];
  return rec(n - 1) + pad[0];
}
static void *thr(void *a) { return (void *)(long)rec(100000); }
int main() {
  p = (char *)malloc(8);
  free(p);
  pthread_attr_t at;
  pthread_attr_init(&at);
  pthread_attr_setstacksize(&at, 64 << 20);
  pthread_t t;
  pthread_create(&t, &at, thr, 0);
  pthread_join(t, 0);
  return 0;
}
