// ORIGIN: compiler-rt/test/asan/TestCases/Posix/shared-lib-test.cpp (right overflow, inc(10))
// LIB: shared-lib-test.lib.c
// EXPECT: global-out-of-bounds Read
// EXPECT-SIZE: 4
// EXPECT-TEXT: GLOB
#include <dlfcn.h>
#include <stdio.h>
typedef void(fun_t)(int x);
int main(int argc, char *argv[]) {
  void *lib = dlopen(LIB_PATH, RTLD_NOW);
  if (!lib) { printf("error in dlopen(): %s\n", dlerror()); return 1; }
  fun_t *inc = (fun_t *)dlsym(lib, "inc");
  inc(10);  // BOOM
  return 0;
}
