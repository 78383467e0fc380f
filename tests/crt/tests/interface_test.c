// ORIGIN: compiler-rt/test/asan/TestCases/interface_test.cpp
// A program may include the sanitizer interface header (here: ours) and call the poisoning
// API on valid memory without any report.
// EXPECT: silent
#include <kasan.h>
#include <stdlib.h>
int main() {
  char *p = (char *)malloc(64);
  __asan_poison_memory_region(p, 64);
  __asan_unpoison_memory_region(p, 64);
  ((volatile char *)p)[63] = 1;
  free(p);
  return 0;
}
