#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
static void *threadFn(void *a) {
  fprintf(stderr, "thread started\n");
  while (1) usleep(100000);
  return 0;
}
__attribute__((constructor)) static void startPolling(void) {
  fprintf(stderr, "initializing library\n");
  pthread_t t;
  pthread_create(&t, 0, &threadFn, 0);
  fprintf(stderr, "done\n");
}
