// ORIGIN: compiler-rt/test/asan/TestCases/stack-buffer-overflow-with-position.cpp (run with -1)
// A 2-byte read at AAA + -1, AAA being char[10] (BBB, CCC its neighbours).
// ARGS: -1
// EXPECT: stack-out-of-bounds Read
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv) {
  assert(argc >= 2);
  int idx = atoi(argv[1]);
  char AAA[10], BBB[10], CCC[10];
  memset(AAA, 0, sizeof(AAA));
  memset(BBB, 0, sizeof(BBB));
  memset(CCC, 0, sizeof(CCC));
  char *p = AAA + idx;
  printf("AAA: %p\ny: %p\nz: %p\np: %p\n", AAA, BBB, CCC, p);
  return *(volatile short *)(p) + BBB[argc % 2] + CCC[argc % 2];
}
