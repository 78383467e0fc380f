// ORIGIN: compiler-rt/test/asan/TestCases/strncmp_strict.c
// strncmp(s1, s2, 100) of equal unterminated 100-byte heap buffers: stays in bounds
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
  char *s1 = unterminated(100, 'o'), *s2 = unterminated(100, 'o'); int r = strncmp(s1, s2, 100); assert(r == 0);
  return 0;
}
