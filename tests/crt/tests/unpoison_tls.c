// ORIGIN: compiler-rt/test/asan/TestCases/Linux/unpoison_tls.cpp
// A thread poisons its TLS array and exits; the next thread (which gets the same static
// TLS block back) writes it: TLS must be unpoisoned on thread death.
// EXPECT: silent
#include <assert.h>
#include <kasan.h>
#include <pthread.h>
#include <stdint.h>
__thread int64_t tls_var[2];
volatile int64_t *p_tls_var;
static void *first(void *arg) {
  __asan_poison_memory_region(&tls_var, sizeof(tls_var));
  p_tls_var = tls_var;
  return 0;
}
static void *second(void *arg) {
  assert(tls_var == p_tls_var);
  *p_tls_var = 1;
  return 0;
}
int main(int argc, char *argv[]) {
  pthread_t p;
  assert(0 == pthread_create(&p, 0, first, 0));
  assert(0 == pthread_join(p, 0));
  assert(0 == pthread_create(&p, 0, second, 0));
  assert(0 == pthread_join(p, 0));
  return 0;
}
