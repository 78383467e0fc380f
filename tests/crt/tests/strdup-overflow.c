// ORIGIN: compiler-rt/test/asan/TestCases/(strdup interceptor)
// strdup of an unterminated 100-byte heap buffer
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
  sink = strdup(unterminated(100, 'o'));
  return 0;
}
