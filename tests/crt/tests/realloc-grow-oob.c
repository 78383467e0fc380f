// ORIGIN: compiler-rt/test/asan/TestCases (realloc grow: access past the new size)
// EXPECT: slab-out-of-bounds Write
// EXPECT-TEXT: allocated 300-byte region
#include <stdlib.h>
int main() {
  char *volatile p = (char *)malloc(10);
  p = (char *)realloc(p, 300);
  ((volatile char *)p)[300] = 1;
  free(p);
  return 0;
}
