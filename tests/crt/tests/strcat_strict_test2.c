// ORIGIN: compiler-rt/test/asan/TestCases/strcat_strict.c
// strcat(to, from) where to (100 bytes) has no NUL
// EXPECT: slab-out-of-bounds -
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
  char *to = unterminated(100, 'z'); char *from = unterminated(20, 'z'); from[19] = 0; sink = strcat(to, from);
  return 0;
}
