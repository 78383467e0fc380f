// ORIGIN: compiler-rt/test/asan/TestCases/Linux/check_memcpy.c
// The original greps the linked binary for calls to plain memcpy/memset/memmove from the
// runtime. Here: a program whose every memcpy/memmove/memset goes through the runtime still
// works and is silent for valid ranges, sizes 0..4096 (also exercises the runtime's own
// copy loops on unaligned heads/tails).
// EXPECT: silent
#include <stdlib.h>
#include <string.h>
int main() {
  char *a = malloc(4200), *b = malloc(4200);
  for (size_t n = 0; n <= 4096; n += (n < 64 ? 1 : 61)) {
    for (int off = 0; off < 8; off++) {
      memset(a + off, (int)n, n);
      memcpy(b + (7 - off), a + off, n);
      memmove(b + off, b + (7 - off), n);
      if (n && memcmp(b + off, a + off, n)) return 1;
    }
  }
  free(a); free(b);
  return 0;
}
