// ORIGIN: compiler-rt/test/asan/TestCases/throw_catch.cpp (exception thrown through many instrumented frames on a thread)
// EXPECT: silent
#include <pthread.h>
#include <stdexcept>
#include <string.h>
__attribute__((noinline)) static void rec(int n) {
  char buf[200];
  memset(buf, n, sizeof buf);
  __asm__ volatile("" ::"r"(buf) : "memory");
  if (n == 0) throw std::runtime_error("x");
  rec(n - 1);
}
__attribute__((noinline)) static void touch() {
  char big[65536];
  volatile char *p = big;
  for (int i = 0; i < (int)sizeof big; i++) p[i] = i;
}
static void *thr(void *) {
  for (int k = 0; k < 10; k++) {
    try { rec(50); } catch (std::exception &) {}
    touch();
  }
  return 0;
}
int main() {
  pthread_t t;
  pthread_create(&t, 0, thr, 0);
  pthread_join(t, 0);
  thr(0);
  return 0;
}
