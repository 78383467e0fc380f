// ORIGIN: compiler-rt/test/asan/TestCases/memcmp_strict_test.cpp
// memcmp("foo" (4 bytes), "fubar", 5): bytes differ at index 1, but memcmp's contract lets it
// read all 5 bytes; ASan (strict_memcmp=1, the default) reports the whole range.
// Linux KASAN's memcmp checks the whole range too (kasan_check_range(p, size)).
// EXPECT: stack-out-of-bounds Read
// EXPECT-SIZE: 5
#include <stdio.h>
#include <string.h>
int main() {
  char kFoo[] = "foo";
  char kFubar[] = "fubar";
  __asm__ volatile("" ::"r"(kFoo), "r"(kFubar) : "memory");  /* the original runs at -O0: keep clang from folding the memcmp */
  int res = memcmp(kFoo, kFubar, strlen(kFubar));
  printf("res: %d\n", res);
  return 0;
}
