// ORIGIN: compiler-rt/test/asan/TestCases/alloca_vla_interact.cpp
// An alloca that lives for the whole function, and VLAs + allocas in a loop that are
// released at each iteration's end: reusing the loop's stack must never report, and the
// long-lived alloca must still be accessible at the end.
// EXPECT: silent
// EXPECT-STDOUT: ok
#include <alloca.h>
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
__attribute__((noinline)) void foo(int len) {
  char *alloca1 = (char *)alloca(len);
  assert(!((uintptr_t)alloca1 & 31L));
  for (int i = 0; i < 32; ++i) {
    volatile char array[i + 1];
    array[i] = 1;
    char *p = (char *)alloca(i + 1);
    memset(p, 0, i + 1);
  }
  memset(alloca1, 1, len);
  ((volatile char *)alloca1)[len - 1] = 2;
}
int main(int argc, char **argv) {
  foo(32);
  printf("ok\n");
  return 0;
}
