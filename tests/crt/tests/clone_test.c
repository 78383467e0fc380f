// ORIGIN: compiler-rt/test/asan/TestCases/Linux/clone_test.cpp
// A clone(CLONE_VM) child with its stack in the parent's frame poisons a local and _exits;
// the parent then writes its whole child_stack array: no report.
// EXPECT: silent
// EXPECT-STDOUT: PASSED
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
static int Child(void *arg) {
  volatile char x[32] = {0};  // Stack gets poisoned.
  (void)x;
  _exit(1);
}
int main(int argc, char **argv) {
  const int kStackSize = 1 << 20;
  char __attribute__((aligned(16))) child_stack[kStackSize + 1];
  char *sp = child_stack + kStackSize;
  pid_t clone_pid = clone(Child, sp, CLONE_FILES | CLONE_VM, NULL);
  int status;
  pid_t wait_result = waitpid(clone_pid, &status, __WCLONE);
  if (wait_result < 0) { perror("waitpid"); return 0; }
  if (wait_result == clone_pid && WIFEXITED(status)) {
    for (int i = 0; i < kStackSize; i++) ((volatile char *)child_stack)[i] = i;
    int ret = child_stack[argc - 1];
    printf("PASSED\n");
    return ret;
  }
  return 0;
}
