// ORIGIN: compiler-rt/test/asan/TestCases/heap-overflow.cpp
// EXPECT: slab-out-of-bounds Read
// EXPECT-SIZE: 1
// EXPECT-TEXT: located 0 bytes to the right of
// EXPECT-TEXT: allocated 10-byte region
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv) {
  char *x = (char *)malloc(10 * sizeof(char));
  memset(x, 0, 10);
  int res = x[argc * 10];  // BOOOM
  free(x);
  return res;
}
