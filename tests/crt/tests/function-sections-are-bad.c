// ORIGIN: compiler-rt/test/asan/TestCases/Linux/function-sections-are-bad.cpp
// The program is linked with --gc-sections; a dlopen'ed instrumented library then calls
// into the runtime (checks, reports): the runtime ABI must not have been garbage-collected.
// LDFLAGS: -Wl,--gc-sections
// LIB: function-sections-are-bad.lib.c
// EXPECT: slab-out-of-bounds Read
// EXPECT-IN: call_rtl_from_dso
#include <assert.h>
#include <dlfcn.h>
#include <stdio.h>
int main(int argc, char *argv[]) {
  void *handle = dlopen(LIB_PATH, RTLD_LAZY);
  if (!handle) fprintf(stderr, "%s\n", dlerror());
  assert(handle != 0);
  typedef void (*F)(void);
  F f = (F)dlsym(handle, "call_rtl_from_dso");
  f();
  dlclose(handle);
  return 0;
}
