// ORIGIN: compiler-rt/test/asan/TestCases/Linux/preinstalled_signal.cpp / preinit_test.cpp (allocation and a bug from .preinit_array)
// A heap overflow in a .preinit_array function (before libc's constructors): reported.
// EXPECT: slab-out-of-bounds Write
// EXPECT-IN: early
#include <stdlib.h>
static void early(void) {
  volatile char *volatile p = malloc(8);
  p[8] = 1;
  free((void *)p);
}
__attribute__((section(".preinit_array"), used)) void (*early_p)(void) = &early;
int main() { return 0; }
