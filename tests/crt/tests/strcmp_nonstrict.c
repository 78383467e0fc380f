// ORIGIN: compiler-rt/test/asan/TestCases/strcmp_strict.c
// strcmp of unterminated buffers that differ at [99]: stops there (ASan default silent)
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
  char *s1 = unterminated(100, 'o'), *s2 = unterminated(100, 'o'); s1[99] = 'z'; s2[99] = 'x'; int r = strcmp(s1, s2); assert(r > 0);
  return 0;
}
