// ORIGIN: compiler-rt/test/asan/TestCases/Linux/swapcontext_test.cpp
// makecontext/swapcontext onto heap and static stacks, with instrumented frames on the
// coroutine stacks: no report, and the program completes.
// EXPECT: silent
// EXPECT-STDOUT: Child: 1
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>
static ucontext_t orig_context, child_context;
static const int kStackSize = 1 << 20;
__attribute__((noinline)) static void Throw(void) {
  char x[1024];
  memset(x, 0, sizeof x);
  __asm__ volatile("" ::"r"(x) : "memory");
}
static void Child(int mode) {
  char x[32] = {0};
  printf("Child: %d\n", x[0] + 1);
  Throw();
  if (swapcontext(&child_context, &orig_context) < 0) { perror("swapcontext"); _exit(0); }
}
static int Run(int arg, int mode, char *child_stack) {
  printf("Child stack: %p\n", child_stack);
  getcontext(&child_context);
  child_context.uc_stack.ss_sp = child_stack;
  child_context.uc_stack.ss_size = kStackSize / 2;
  if (mode == 0) child_context.uc_link = &orig_context;
  makecontext(&child_context, (void (*)(void))Child, 1, mode);
  if (swapcontext(&orig_context, &child_context) < 0) { perror("swapcontext"); return 0; }
  for (int i = 0; i < kStackSize / 2; ++i) ((volatile char *)child_stack)[i] = i;
  return child_stack[arg];
}
static char stack[1 << 20];
int main(int argc, char **argv) {
  char *heap = (char *)malloc(kStackSize + 1);
  int ret = 0;
  ret += Run(argc - 1, 0, stack);
  ret += Run(argc - 1, 1, stack);
  ret += Run(argc - 1, 0, heap);
  ret += Run(argc - 1, 1, heap);
  free(heap);
  return ret;
}
