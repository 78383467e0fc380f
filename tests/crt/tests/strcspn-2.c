// ORIGIN: compiler-rt/test/asan/TestCases/strcspn-2.c
// strcspn: the second argument (unterminated 4-byte heap buffer) overflows
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
  char *s2 = unterminated(4, 'a'); sink = (char *)strcspn("cb", s2);
  return 0;
}
