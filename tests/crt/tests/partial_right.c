// ORIGIN: compiler-rt/test/asan/TestCases/partial_right.cpp
// EXPECT: slab-out-of-bounds Read
// EXPECT-SIZE: 4
// EXPECT-TEXT: located 8 bytes inside of
// EXPECT-TEXT: allocated 10-byte region
#include <stdlib.h>
int main(int argc, char **argv) {
  volatile int *x = (int *)malloc(2 * sizeof(int) + 2);
  int res = x[2];  // BOOOM
  return res;
}
