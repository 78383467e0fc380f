// ORIGIN: compiler-rt/test/asan/TestCases (realloc family: use of the old pointer after a moving realloc)
// EXPECT: slab-use-after-free Read
#include <stdlib.h>
#include <string.h>
int main() {
  char *volatile p = (char *)malloc(16);
  memset(p, 1, 16);
  char *volatile q = (char *)realloc(p, 4096);
  int r = p[3];
  free(q);
  return r;
}
