// ORIGIN: compiler-rt/test/asan/TestCases/Posix/shared-lib-test.cpp
// A dlopen'ed instrumented library's global GLOB[10] accessed at [-1]: its left neighbour
// XFAIL: all -- layout: gcc and clang place GLOB (zero-initialised, .bss) before pad in the library, so GLOB[-1] lands in whatever precedes it, not in a redzone; globals only have right redzones (Linux too). The right-side variant is shared-lib-overflow-right
// pad[10] has a right redzone -> global-out-of-bounds in inc, called from main.
// LIB: shared-lib-test.lib.c
// EXPECT: global-out-of-bounds Read
// EXPECT-SIZE: 4
// EXPECT-IN: inc
#include <dlfcn.h>
#include <stdio.h>
typedef void(fun_t)(int x);
int main(int argc, char *argv[]) {
  void *lib = dlopen(LIB_PATH, RTLD_NOW);
  if (!lib) { printf("error in dlopen(): %s\n", dlerror()); return 1; }
  fun_t *inc = (fun_t *)dlsym(lib, "inc");
  if (!inc) return 1;
  printf("ok\n");
  inc(1);
  inc(-1);  // BOOM
  return 0;
}
