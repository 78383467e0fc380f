// ORIGIN: compiler-rt/test/asan/TestCases/(strnlen interceptor)
// strnlen(s, 100) of a 100-byte heap buffer without NUL: reads only 100 bytes
// EXPECT: silent
#define _GNU_SOURCE
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
static char *unterminated(size_t n, char fill) {  // heap buffer of n bytes, no NUL
  char *s = (char *)malloc(n);
  memset(s, fill, n);
  return s;
}
int main(int argc, char **argv) {
  char *volatile sink;
  (void)sink;
  sink = (char *)strnlen(unterminated(100, 1), 100);
  return 0;
}
