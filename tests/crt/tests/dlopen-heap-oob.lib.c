#include <stdlib.h>
#include <string.h>
__attribute__((noinline)) void lib_overflow(int n) {
  char *volatile p = (char *)malloc(n);
  memset(p, 0, n);
  ((volatile char *)p)[n] = 1;
  free(p);
}
