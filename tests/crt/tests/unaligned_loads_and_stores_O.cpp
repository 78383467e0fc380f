// ORIGIN: compiler-rt/test/asan/TestCases/unaligned_loads_and_stores.cpp (case O)
// An unaligned 8-byte store at x + 14 of new char[16] (via a packed struct instead of
// __sanitizer_unaligned_store64).
// EXPECT: slab-out-of-bounds Write
// EXPECT-SIZE: 8
// EXPECT-TEXT: allocated 16-byte region
#include <stdint.h>
#include <string.h>
struct __attribute__((packed)) U { uint64_t v; };
int main(int argc, char **argv) {
  char *volatile x = new char[16];
  memset(x, 0xab, 16);
  int res = 1;
  volatile U *u = (volatile U *)(x + 14);
  u->v = 0;
  delete[] x;
  return res & 1;
}
