// ORIGIN: compiler-rt/test/asan/TestCases/use-after-free.cpp (through the memcpy interceptor)
// EXPECT: slab-use-after-free Read
// EXPECT-SIZE: 32
#include <stdlib.h>
#include <string.h>
int main() {
  char *volatile p = malloc(64), *volatile q = malloc(64);
  free(p);
  memcpy(q, p, 32);
  __asm__ volatile("" ::"r"(q) : "memory");
  free(q);
  return 0;
}
