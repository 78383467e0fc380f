// ORIGIN: compiler-rt/test/asan/TestCases/unaligned_loads_and_stores.cpp (case A)
// An unaligned 2-byte load at x + 15 of new char[16] (via a packed struct instead of
// __sanitizer_unaligned_load16).
// EXPECT: slab-out-of-bounds Read
// EXPECT-SIZE: 2
// EXPECT-TEXT: allocated 16-byte region
#include <stdint.h>
#include <string.h>
struct __attribute__((packed)) U { uint16_t v; };
int main(int argc, char **argv) {
  char *volatile x = new char[16];
  memset(x, 0xab, 16);
  int res = 1;
  volatile U *u = (volatile U *)(x + 15);
  res = u->v;
  delete[] x;
  return res & 1;
}
