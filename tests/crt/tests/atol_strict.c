// ORIGIN: compiler-rt/test/asan/TestCases/atol_strict.c
// atol on an unterminated 100-byte heap buffer of digits
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
  char *s = unterminated(100, '1'); sink = (char *)(long)atol(s);
  return 0;
}
