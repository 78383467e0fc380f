// ORIGIN: compiler-rt/test/asan/TestCases/realloc.cpp
// realloc(p, 0) frees p and returns NULL (or a minimal object); free() of the result is fine.
// EXPECT: silent
#include <stdio.h>
#include <stdlib.h>
int main() {
  void *p = malloc(42);
  p = realloc(p, 0);
  if (p)
    fprintf(stderr, "Allocated something on realloc(p, 0)\n");
  else
    fprintf(stderr, "realloc(p, 0) returned nullptr\n");
  free(p);
  return 0;
}
