// ORIGIN: compiler-rt/test/asan/TestCases/Linux/dlopen-mixed-c-cxx.c / Posix/interception-in-shared-lib-test.cpp
// A dlopen'ed instrumented library overflows a heap buffer; its malloc and checks are the
// program's runtime.
// LIB: dlopen-heap-oob.lib.c
// EXPECT: slab-out-of-bounds Write
// EXPECT-IN: lib_overflow
#include <dlfcn.h>
#include <stdio.h>
int main() {
  void *h = dlopen(LIB_PATH, RTLD_NOW);
  if (!h) { printf("dlopen: %s\n", dlerror()); return 1; }
  void (*f)(int) = (void (*)(int))dlsym(h, "lib_overflow");
  f(16);
  return 0;
}
