// ORIGIN: compiler-rt/test/asan/TestCases/strncpy-overflow.cpp
// EXPECT: slab-out-of-bounds Write
// Linux's strcpy/strncpy are instrumented C: the report is the first bad byte, size 1
// (ASan reports the whole copy, size 10).
// EXPECT-SIZE: 1
// EXPECT-TEXT: allocated 9-byte region
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv) {
  char *hello = (char *)malloc(6);
  strcpy(hello, "hello");
  char *short_buffer = (char *)malloc(9);
  strncpy(short_buffer, hello, 10);  // BOOM
  return ((volatile char *)short_buffer)[8];
}
