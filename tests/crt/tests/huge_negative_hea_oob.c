// ORIGIN: compiler-rt/test/asan/TestCases/huge_negative_hea_oob.cpp
// EXPECT: (slab|kmalloc|page)-out-of-bounds Read
// EXPECT-TEXT: 4000 bytes to the left of
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv) {
  char *x = (char *)malloc(1 << 20);
  memset(x, 0, 10);
  int res = x[-argc * 4000];  // BOOOM
  free(x);
  return res;
}
