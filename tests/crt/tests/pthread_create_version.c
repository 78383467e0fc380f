// ORIGIN: compiler-rt/test/asan/TestCases/Linux/pthread_create_version.cpp
// pthread_create with attributes, many threads, joined and detached: no report.
// EXPECT: silent
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static void *fn(void *a) { char buf[100]; memset(buf, (int)(long)a, sizeof buf); return (void *)(long)buf[(long)a % 100]; }
int main() {
  pthread_t t[64];
  pthread_attr_t at;
  pthread_attr_init(&at);
  pthread_attr_setstacksize(&at, 1 << 20);
  for (long i = 0; i < 64; i++) pthread_create(&t[i], i % 2 ? &at : 0, fn, (void *)i);
  for (int i = 0; i < 64; i++) pthread_join(t[i], 0);
  pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
  for (long i = 0; i < 16; i++) { pthread_t d; pthread_create(&d, &at, fn, (void *)i); }
  usleep(100000);
  return 0;
}
