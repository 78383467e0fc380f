// ORIGIN: compiler-rt/test/asan/TestCases/strchr_strict.c
// strchr(s, 'o') on an unterminated buffer of 'o's: found at s[0], nothing past the end is read (ASan's default, strict_string_checks=0, is silent too)
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
  char *s = unterminated(100, 'o'); char *r = strchr(s, 'o'); assert(r == s);
  return 0;
}
