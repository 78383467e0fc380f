// ORIGIN: compiler-rt/test/asan/TestCases/alloca_constant_size.cpp
// alloca(200) / constant-size array then a deeper frame touching the same stack: no report.
// CFLAGS: -fstack-protector
// EXPECT: silent
// EXPECT-TEXT: Done.
#include <alloca.h>
#include <stdio.h>
#include <string.h>
void f1_alloca(void) {
  char *dynamic_buffer = (char *)alloca(200);
  fprintf(stderr, "dynamic_buffer = %p\n", dynamic_buffer);
  memset(dynamic_buffer, 'y', 200);
}
static const int kDynamicArraySize = 200;
void f1_vla(void) {
  char dynamic_buffer[kDynamicArraySize];
  fprintf(stderr, "dynamic_buffer = %p\n", dynamic_buffer);
  memset(dynamic_buffer, 'y', kDynamicArraySize);
}
void f2(void) {
  char buf[1024];
  memset(buf, 'x', 1024);
}
int main(int argc, const char *argv[]) {
  f1_alloca();
  f2();
  f1_vla();
  f2();
  fprintf(stderr, "Done.\n");
  return 0;
}
