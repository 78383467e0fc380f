// ORIGIN: compiler-rt/test/asan/TestCases/Posix/bcmp_test.cpp
// bcmp of two 4-byte stack arrays over 5 bytes
// EXPECT: stack-out-of-bounds Read
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
  char a1[] = {(char)argc, 2, 3, 4}; char a2[] = {1, (char)(2 * argc), 3, 4}; sink = (char *)(long)bcmp(a1, a2, 4 + argc);
  return 0;
}
