// ORIGIN: compiler-rt/test/asan/TestCases/Linux/bzero.cpp
// bzero(p, 101) on a 100-byte heap object
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
  char *volatile p = (char *)malloc(100); bzero(p, 101); __asm__ volatile("" ::"r"(p) : "memory");
  return 0;
}
