// ORIGIN: compiler-rt/test/asan/TestCases/heap-overflow-large.cpp
// A 2 MB+ heap object: overflow by 1 MB+ past its end. Linux: a large kmalloc is page
// backed -> slab-out-of-bounds or the page/kmalloc variant.
// EXPECT: (slab|kmalloc|page)-out-of-bounds Write
// EXPECT-SIZE: 4
#include <stdlib.h>
#include <stdio.h>
int main(int argc, char **argv) {
  fprintf(stderr, "start\n");
  volatile int *volatile x = (int *)malloc(1 << 20);
  volatile int idx = (1 << 20) / sizeof(int) + 5;
  x[idx] = 42;  // 20 bytes past the end
  free((void *)x);
  return 0;
}
