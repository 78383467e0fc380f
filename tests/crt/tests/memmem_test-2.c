// ORIGIN: compiler-rt/test/asan/TestCases/Linux/memmem_test.cpp
// memmem(haystack, 100, needle (4 heap bytes), 5)
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
  char *n = unterminated(4, 'x'); sink = (char *)memmem("oooooooooooo", 12, n, 5);
  return 0;
}
