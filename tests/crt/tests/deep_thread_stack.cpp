// ORIGIN: compiler-rt/test/asan/TestCases/Posix/deep_thread_stack.cpp
// Alloc, free and access each on a thread started by a thread; the report names the three
// tasks (Linux: "Allocated by task N", "Freed by task M").
// EXPECT: slab-use-after-free Write
// EXPECT-SIZE: 4
// EXPECT-TEXT: Allocated by task
// EXPECT-TEXT: Freed by task
// EXIT: 1
// EXPECT-TEXT: AllocThread
// EXPECT-TEXT: FreeThread
#include <pthread.h>
int *volatile x;
void *AllocThread(void *arg) {
  x = new int;
  *x = 42;
  return NULL;
}
void *FreeThread(void *arg) {
  delete x;
  return NULL;
}
void *AccessThread(void *arg) {
  *(volatile int *)x = 43;  // BOOM
  return NULL;
}
typedef void *(*callback_type)(void *arg);
void *RunnerThread(void *function) {
  pthread_t thread;
  pthread_create(&thread, NULL, (callback_type)function, NULL);
  pthread_join(thread, NULL);
  return NULL;
}
void RunThread(callback_type function) {
  pthread_t runner;
  pthread_create(&runner, NULL, RunnerThread, (void *)function);
  pthread_join(runner, NULL);
}
int main(int argc, char *argv[]) {
  RunThread(AllocThread);
  RunThread(FreeThread);
  RunThread(AccessThread);
  return (x != 0);
}
