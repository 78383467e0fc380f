// ORIGIN: compiler-rt/test/asan/TestCases/memset_test.cpp (-DTEST_MEMSET)
// A large memset over a 3000-byte heap block with 32 bytes poisoned at offset 512: the whole
// range is checked, so the poisoned hole is found.
// EXPECT: use-after-poison Write
#include <assert.h>
#include <kasan.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv) {
  char *volatile p = (char *)malloc(3000);
  __asan_poison_memory_region(p + 512, 32);
#if 1
  memset(p, 0, 3000);
  assert(p[1] == 0);
#else
  char *volatile q = (char *)malloc(3000);
  memmove(q, p, 3000);
  free(q);
#endif
  __asan_unpoison_memory_region(p + 512, 32);
  free(p);
  return 0;
}
