// ORIGIN: compiler-rt/test/asan/TestCases/huge_negative_hea_oob.cpp
// EXPECT: (slab|kmalloc|page)-out-of-bounds Read
// Linux describes a large kmalloc by its page, not as an object (no "N bytes to the left of"
// line: that is ASan's wording): the physical-page section with page_type large_kmalloc.
// EXPECT-TEXT: page_type: f8(large_kmalloc)
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv) {
  char *x = (char *)malloc(1 << 20);
  memset(x, 0, 10);
  int res = x[-argc * 4000];  // BOOOM
  free(x);
  return res;
}
