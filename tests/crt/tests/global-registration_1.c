// ORIGIN: compiler-rt/test/asan/TestCases/Posix/global-registration.c (run 1)
// buffer1 (main object), buffer2 (second object file), buffer3 (dlopen'ed library): each
// char[1], written at [1]: the globals of every object must be registered.
// ARGS: 1
// EXTRA-SRC: global-registration.two.c
// LIB: global-registration.lib.c
// EXPECT: global-out-of-bounds Write
// EXPECT-TEXT: buffer1
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
extern char buffer1[1];
extern char buffer2[1];
char buffer1[1] = {0};
int main(int argc, char *argv[]) {
  int n = atoi(argv[1]);
  if (n == 1) {
    ((volatile char *)buffer1)[argc - 1] = 0;
  } else if (n == 2) {
    ((volatile char *)buffer2)[argc - 1] = 0;
  } else if (n == 3) {
    void *handle = dlopen(LIB_PATH, RTLD_NOW);
    if (!handle) { fprintf(stderr, "dlopen: %s\n", dlerror()); return 1; }
    char *buffer = (char *)dlsym(handle, "buffer3");
    if (!buffer) { fprintf(stderr, "dlsym: %s\n", dlerror()); return 1; }
    ((volatile char *)buffer)[argc - 1] = 0;
  }
  return 0;
}
