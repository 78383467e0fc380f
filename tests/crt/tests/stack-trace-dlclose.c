// ORIGIN: compiler-rt/test/asan/TestCases/Linux/stack-trace-dlclose.cpp
// malloc in a dlopen'ed library, dlclose, then double free: the report must still come
// out (the allocation trace has a frame in the unloaded library) and not crash.
// LIB: stack-trace-dlclose.lib.c
// EXPECT: double-free -
// EXPECT-TEXT:  main+
#include <assert.h>
#include <dlfcn.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  void *handle = dlopen(LIB_PATH, RTLD_LAZY);
  assert(handle);
  void *(*foo)(void) = (void *(*)(void))dlsym(handle, "foo");
  assert(foo);
  void *p = foo();
  assert(p);
  dlclose(handle);
  free(p);
  free(p);  // double-free
  return 0;
}
