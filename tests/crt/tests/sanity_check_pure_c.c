// ORIGIN: compiler-rt/test/asan/TestCases/sanity_check_pure_c.c
// EXPECT: slab-use-after-free Read
#include <stdlib.h>
int main() {
  char *x = (char *)malloc(10 * sizeof(char));
  free(x);
  return x[5];
}
