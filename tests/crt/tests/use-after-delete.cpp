// ORIGIN: compiler-rt/test/asan/TestCases/use-after-delete.cpp
// EXPECT: slab-use-after-free Read
// (Linux prints the cache object size, 16, for a freed object: kasan_get_alloc_size finds no accessible granule)
// EXPECT-SIZE: 1
// EXPECT-TEXT: located 5 bytes inside of
// EXPECT-TEXT: freed 16-byte region
#include <stdlib.h>
int main() {
  char * volatile x = new char[10];
  delete[] x;
  return x[5];
}
