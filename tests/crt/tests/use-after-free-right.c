// ORIGIN: compiler-rt/test/asan/TestCases/use-after-free-right.cpp
// EXPECT: slab-use-after-free Write
// EXPECT-SIZE: 1
// EXPECT-TEXT: located 0 bytes inside of
// EXPECT-TEXT: freed 8-byte region
#include <stdlib.h>
int main() {
  volatile char *x = (char *)malloc(sizeof(char));
  free((void *)x);
  *x = 42;
  return 0;
}
