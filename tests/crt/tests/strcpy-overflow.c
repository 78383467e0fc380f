// ORIGIN: compiler-rt/test/asan/TestCases (strcpy interceptor; cf. strncpy-overflow.cpp)
// EXPECT: slab-out-of-bounds Write
// Linux's strcpy/strncpy are instrumented C: the report is the first bad byte, size 1
// (ASan reports the whole copy, size 6).
// EXPECT-SIZE: 1
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv) {
  char *volatile hello = (char *)malloc(6);
  memcpy(hello, "hello", 6);
  char *volatile short_buffer = (char *)malloc(5);
  strcpy(short_buffer, hello);  // BOOM
  return ((volatile char *)short_buffer)[0];
}
