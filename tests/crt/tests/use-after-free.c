// ORIGIN: compiler-rt/test/asan/TestCases/use-after-free.cpp
// EXPECT: slab-use-after-free Read
// EXPECT-SIZE: 1
// EXPECT-TEXT: located 5 bytes inside of
// EXPECT-TEXT: Freed by task
// EXPECT-TEXT: Allocated by task
#include <stdlib.h>
int main() {
  char *x = (char *)malloc(10 * sizeof(char));
  free(x);
  return x[5];
}
