#include <stdint.h>
#include <stdlib.h>
#include <string.h>
void call_rtl_from_dso(void) {
  volatile int32_t x = 1;
  int32_t y;
  memcpy(&y, (void *)&x, 4);
  char *volatile p = malloc(5);
  volatile int32_t z = *(volatile int32_t *)(p + 2);  // 4-byte read, 1 byte past the end
  (void)z; (void)y;
  free(p);
}
