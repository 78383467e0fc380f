// ORIGIN: compiler-rt/test/asan/TestCases (fork: a bug in the child is reported with the child's pid; cf. Posix/coverage-fork.cpp, log_path_fork_test)
// EXPECT: slab-use-after-free Read
// EXPECT-STDOUT: parent done
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
int main() {
  char *volatile p = (char *)malloc(16);
  pid_t pid = fork();
  if (pid == 0) {
    free(p);
    return p[1];
  }
  int st;
  waitpid(pid, &st, 0);
  printf("parent done\n");
  fflush(stdout);
  p[1] = 0;  // still valid in the parent
  free(p);
  return 0;
}
