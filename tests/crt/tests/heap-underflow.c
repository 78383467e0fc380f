// ORIGIN: compiler-rt/test/asan/TestCases/heap-overflow.cpp (left side; cf. huge_negative_hea_oob.cpp)
// EXPECT: slab-out-of-bounds Read
// EXPECT-TEXT: located 1 bytes to the left of
#include <stdlib.h>
int main(int argc, char **argv) {
  char *volatile x = (char *)malloc(10);
  int res = x[-argc];
  free(x);
  return res;
}
