// ORIGIN: compiler-rt/test/asan/TestCases/malloc-size-too-big.cpp
// malloc(0x1_0000_0001_0000 bytes): ASan reports allocation-size-too-big; KASAN returns NULL.
// EXPECT: silent
// EXPECT-STDOUT: malloc returned NULL
#include <stdio.h>
#include <stdlib.h>
static const size_t kMaxAllowedMallocSizePlusOne = (1ULL << 40) + 1;
int main() {
  void *volatile p = malloc(kMaxAllowedMallocSizePlusOne);
  printf("malloc returned %s\n", p ? "non-NULL" : "NULL");
  void *volatile q = malloc((size_t)-16);
  printf("malloc(-16) returned %s\n", q ? "non-NULL" : "NULL");
  return 0;
}
