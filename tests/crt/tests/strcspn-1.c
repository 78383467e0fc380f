// ORIGIN: compiler-rt/test/asan/TestCases/strcspn-1.c
// strcspn: the first argument (unterminated 100-byte heap buffer of 'c') overflows
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
  sink = (char *)strcspn(unterminated(100, 'c'), "ab");
  return 0;
}
