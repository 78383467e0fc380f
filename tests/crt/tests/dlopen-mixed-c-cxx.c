// ORIGIN: compiler-rt/test/asan/TestCases/Linux/dlopen-mixed-c-cxx.c
// A C program dlopens an instrumented C++ library that throws and catches internally,
// uses new/delete: no report, no crash.
// LIB: dlopen-mixed-c-cxx.lib.cpp
// LDFLAGS: -lstdc++
// EXPECT: silent
// EXPECT-STDOUT: 42
#include <dlfcn.h>
#include <stdio.h>
int main() {
  void *h = dlopen(LIB_PATH, RTLD_NOW);
  if (!h) { printf("dlopen: %s\n", dlerror()); return 1; }
  int (*f)(void) = (int (*)(void))dlsym(h, "cxx_func");
  printf("%d\n", f());
  return 0;
}
