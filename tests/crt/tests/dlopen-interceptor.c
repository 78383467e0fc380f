// ORIGIN: compiler-rt/test/asan/TestCases/Posix/interception-in-shared-lib-test.cpp
// strcpy called from a dlopen'ed library overflows a heap buffer: the checked strcpy must
// be used for the library too.
// LIB: dlopen-interceptor.lib.c
// EXPECT: slab-out-of-bounds Write
#include <dlfcn.h>
#include <stdio.h>
int main() {
  void *h = dlopen(LIB_PATH, RTLD_NOW);
  if (!h) { printf("dlopen: %s\n", dlerror()); return 1; }
  void (*f)(void) = (void (*)(void))dlsym(h, "lib_strcpy");
  f();
  return 0;
}
