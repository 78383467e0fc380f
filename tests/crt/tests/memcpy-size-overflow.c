// ORIGIN: compiler-rt/test/asan/TestCases/memset_test.cpp (-DTEST_MEMCPY_SIZE_OVERFLOW)
// memcpy(p, q, (size_t)-1) through a volatile function pointer. ASan: negative-size-param.
// Linux KASAN: kasan_check_range sees addr + size wrap around and reports the range
// (generic mode: "BUG: KASAN: <type>" with size 18446744073709551615, Linux calls it
// out-of-bounds / wild). Must be a report, not a crash.
// EXPECT: [a-z-]+ -
#include <stdlib.h>
#include <string.h>
typedef void *(*memcpy_t)(void *, const void *, size_t);
int main(int argc, char **argv) {
  char *volatile p = (char *)malloc(3000);
  char *volatile q = (char *)malloc(3000);
  volatile memcpy_t my_memcpy = &memcpy;
  my_memcpy(p, q, -argc);
  return 0;
}
