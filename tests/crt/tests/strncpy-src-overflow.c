// ORIGIN: compiler-rt/test/asan/TestCases/strncpy-overflow.cpp (source side)
// strncpy(dst, src, 16) where src is an unterminated 8-byte heap buffer: reads past src.
// EXPECT: slab-out-of-bounds Read
#include <stdlib.h>
#include <string.h>
int main() {
  char *volatile src = malloc(8);
  memset(src, 'a', 8);
  char dst[32];
  strncpy(dst, src, 16);
  __asm__ volatile("" ::"r"(dst) : "memory");
  return 0;
}
