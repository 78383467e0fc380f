// ORIGIN: compiler-rt/test/asan/TestCases/Linux/vfork.cpp
// The vfork child poisons 100000 bytes of (shared) stack and _exits; the parent's stack
// below its sp must be clean again (the original asks __asan_address_is_poisoned; here the
// parent's instrumented frame writes the same area).
// EXPECT: silent
#include <kasan.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
__attribute__((noinline, no_sanitize_address)) void child(void) {
  _Alignas(8) char x[100000];
  __asan_poison_memory_region(x, sizeof(x));
  _exit(0);
}
__attribute__((noinline)) void parent(void) {
  _Alignas(8) char x[100000];
  volatile char *p = x;
  for (int i = 0; i < 100000; i += 64) p[i] = 1;
  p[5000] = 2;
}
int main(int argc, char **argv) {
  if (vfork())
    parent();
  else
    child();
  return 0;
}
