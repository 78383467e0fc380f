// ORIGIN: compiler-rt/test/asan/TestCases (fork + allocation in both processes)
// Allocate/free in parent and child after fork (allocator locks must be sane): silent.
// EXPECT: silent
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <pthread.h>
static void *spin(void *a) { for (int i = 0; i < 20000; i++) free(malloc(i % 512 + 1)); return 0; }
int main() {
  pthread_t t;
  pthread_create(&t, 0, spin, 0);
  for (int k = 0; k < 20; k++) {
    pid_t pid = fork();
    if (pid == 0) {
      for (int i = 0; i < 1000; i++) { char *p = malloc(i + 1); memset(p, 1, i + 1); free(p); }
      _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st)) return 3;
  }
  pthread_join(t, 0);
  return 0;
}
