// ORIGIN: compiler-rt/test/asan/TestCases/Posix/stack-overflow.cpp (-DSMALL_FRAME)
// Recursion with tiny frames (no locals with redzones): overflow detected on a push/call.
// EXPECT: nobug
// EXPECT-TEXT: kasan: stack-overflow on address
// EXIT: 139
#include <pthread.h>
volatile char x;
volatile int y = 1;
void recursive_func(char *p) {
  char *buf = 0;
  if (y) recursive_func(buf);
  x = 1;
}
static void *ThreadFn(void *unused) { recursive_func(0); return 0; }
int main(int argc, char **argv) {
  pthread_t t;
  pthread_attr_t a;
  pthread_attr_init(&a);
  pthread_attr_setstacksize(&a, 128 * 1024);
  pthread_create(&t, &a, ThreadFn, 0);
  pthread_join(t, 0);
  return 0;
}
