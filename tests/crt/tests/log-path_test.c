// ORIGIN: compiler-rt/test/asan/TestCases/log-path_test.cpp (log_path <-> kasan.log_path)
// The report goes to the file, not to stderr.
// OPTIONS: kasan.log_path=/tmp/crt-log-path-test.log
// EXPECT: nobug
// EXPECT-STDOUT: BUG: KASAN: slab-out-of-bounds
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main() {
  /* the runtime opened the log at start-up: do not remove it before the report */
  char *volatile x = malloc(10);
  memset(x, 0, 10);
  volatile int r = x[10];
  (void)r;
  FILE *f = fopen("/tmp/crt-log-path-test.log", "r");
  if (!f) { printf("no log file\n"); return 1; }
  char line[256];
  while (fgets(line, sizeof line, f)) fputs(line, stdout);
  fclose(f);
  remove("/tmp/crt-log-path-test.log");
  return 0;
}
