// ORIGIN: compiler-rt/test/asan/TestCases/Posix/stack-overflow.cpp (-DTHREAD)
// The same recursion on a pthread (its own guard page): "kasan: stack-overflow", SIGSEGV.
// EXPECT: nobug
// EXPECT-TEXT: kasan: stack-overflow on address
// EXIT: 139
#include <pthread.h>
#include <stdlib.h>
#define BS 1024
volatile char x;
volatile int y = 1;
void recursive_func(char *p) {
  char buf[BS];
  buf[rand() % BS] = 1;
  x = buf[rand() % BS];
  if (y) recursive_func(buf);
  x = 1;
}
static void *ThreadFn(void *unused) { recursive_func(0); return 0; }
int main(int argc, char **argv) {
  pthread_t t;
  pthread_attr_t a;
  pthread_attr_init(&a);
  pthread_attr_setstacksize(&a, 256 * 1024);
  pthread_create(&t, &a, ThreadFn, 0);
  pthread_join(t, 0);
  return 0;
}
