// ORIGIN: compiler-rt/test/asan/TestCases/Linux/clang_gcc_abi.cpp (x86-64 form: a naked asm frame between instrumented frames)
// The trace must go through a hand-written frame-pointer frame to main.
// EXPECT: slab-out-of-bounds Read
// EXPECT-IN: boom
// EXPECT-TEXT:  main+
#include <stdlib.h>
__attribute__((noinline)) int boom(void) {
  volatile int three = 3;
  char *volatile s = (char *)malloc(three);
  return s[three];  // BOOM
}
__attribute__((naked, noinline)) void asm_frame(void) {
  __asm__ volatile("push %rbp\n\tmov %rsp, %rbp\n\tcall boom\n\tpop %rbp\n\tret\n\t");
}
int main() {
  asm_frame();
  return 0;
}
