// ORIGIN: compiler-rt/test/asan/TestCases/poison_partial.cpp (heap run)
// new char[21], 4-byte read at offset 20: 3 of its 4 bytes are past the end.
// EXPECT: slab-out-of-bounds Read
// EXPECT-SIZE: 4
#include <string.h>
char *x;
int main(int argc, char **argv) {
  x = new char[21];
  memset(x, 0, 21);
  int *y = (int *)x;
  return ((volatile int *)y)[5];
}
