// ORIGIN: compiler-rt/test/asan/TestCases/memcmp_strict_test.cpp
// memcmp("foo" (4 bytes), "fubar", 5): bytes differ at index 1, but memcmp's contract lets it
// read all 5 bytes; ASan (strict_memcmp=1, the default) reports the whole range.
// kasan follows Linux here, not ASan: Linux's memcmp is lib/string.c, instrumented C with
// no range check at entry (mm/kasan/shadow.c checks only memset/memmove/memcpy), and with
// fewer than 8 bytes it compares byte by byte and stops at the first difference, index 1:
// nothing past kFoo is read, so Linux (and kasan) report nothing.
// EXPECT: silent
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
