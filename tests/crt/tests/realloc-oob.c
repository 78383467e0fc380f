// ORIGIN: compiler-rt/test/asan/TestCases (realloc shrink: access past the new size)
// EXPECT: slab-out-of-bounds Write
// EXPECT-TEXT: allocated 20-byte region
#include <stdlib.h>
int main() {
  char *volatile p = (char *)malloc(100);
  p = (char *)realloc(p, 20);
  ((volatile char *)p)[20] = 1;
  free(p);
  return 0;
}
