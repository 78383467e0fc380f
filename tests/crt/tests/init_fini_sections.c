// ORIGIN: compiler-rt/test/asan/TestCases/Linux/init_fini_sections.cpp
// Instrumented functions in .preinit_array / .init_array / .fini_array run fine (the
// .preinit_array one runs before libc and before any constructor).
// EXPECT: silent
// EXPECT-STDOUT: c=2
// EXPECT-STDOUT: fini
#include <stdio.h>
int c = 0;
static void foo(void) {
  volatile int buf[4] = {1, 2, 3, 4};
  c += buf[0];
}
static void fini(void) { printf("fini\n"); }
int main() {
  printf("c=%d\n", c);
  return 0;
}
__attribute__((section(".preinit_array"), used)) void (*call_foo)(void) = &foo;
__attribute__((section(".init_array"), used)) void (*call_foo_2)(void) = &foo;
__attribute__((section(".fini_array"), used)) void (*call_foo_3)(void) = &fini;
