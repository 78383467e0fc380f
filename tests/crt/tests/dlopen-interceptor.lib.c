#include <stdlib.h>
#include <string.h>
void lib_strcpy(void) {
  char *volatile src = (char *)malloc(20);
  memset(src, 'a', 19); src[19] = 0;
  char *volatile dst = (char *)malloc(10);
  strcpy(dst, src);
  free(dst); free(src);
}
