// ORIGIN: compiler-rt/test/asan/TestCases/Linux/memmem_test.cpp
// memmem(haystack (100 heap bytes), 101, needle, 2)
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
  sink = (char *)memmem(unterminated(100, 'o'), 101, "ab", 2);
  return 0;
}
