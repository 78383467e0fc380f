// ORIGIN: compiler-rt/test/asan/TestCases/Linux/pthread_create_from_constructor.cpp
// A dlopen'ed instrumented library whose constructor starts a thread: no deadlock.
// LIB: pthread_create_from_constructor.lib.c
// EXPECT: silent
// EXPECT-TEXT: done
// EXPECT-TEXT: thread started
#include <dlfcn.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
  void *handle = dlopen(LIB_PATH, RTLD_LAZY);
  if (!handle) abort();
  usleep(300000);
  return 0;
}
