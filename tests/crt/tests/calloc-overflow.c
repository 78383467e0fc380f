// ORIGIN: compiler-rt/test/asan/TestCases/calloc-overflow.cpp
// ASan reports calloc-overflow (or returns NULL with allocator_may_return_null=1). KASAN
// (kcalloc) returns NULL on n*size overflow: no report, no crash, NULL.
// EXPECT: silent
// EXPECT-STDOUT: calloc returned NULL
#include <stdio.h>
#include <stdlib.h>
int main() {
  void *volatile p = calloc(-1, 1000);
  printf("calloc returned %s\n", p ? "non-NULL" : "NULL");
  void *volatile q = calloc((size_t)1 << 33, (size_t)1 << 33);
  if (q) printf("second calloc non-NULL\n");
  return 0;
}
