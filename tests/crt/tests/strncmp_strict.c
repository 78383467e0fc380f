// ORIGIN: compiler-rt/test/asan/TestCases/strncmp_strict.c
// strncmp(s1, s2, 200) of equal unterminated 100-byte heap buffers
// EXPECT: slab-out-of-bounds Read
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
  char *s1 = unterminated(100, 'o'), *s2 = unterminated(100, 'o'); sink = (char *)(long)strncmp(s1, s2, 200);
  return 0;
}
