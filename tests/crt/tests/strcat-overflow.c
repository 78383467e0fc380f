// ORIGIN: compiler-rt/test/asan/TestCases/(strcat interceptor)
// strcat of 10 chars onto a 10-char string in a 16-byte buffer: writes 5 bytes past the end
// EXPECT: slab-out-of-bounds Write
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
  char *to = (char *)malloc(16); memset(to, 'a', 10); to[10] = 0; char *from = (char *)malloc(11); memset(from, 'b', 10); from[10] = 0; sink = strcat(to, from);
  return 0;
}
