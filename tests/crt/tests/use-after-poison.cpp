// ORIGIN: compiler-rt/test/asan/TestCases/use-after-poison.cpp
// EXPECT: use-after-poison Read
// EXPECT-SIZE: 1
// EXPECT-TEXT: use-after-poison.cpp:11
#include <stdlib.h>
extern "C" void __asan_poison_memory_region(void *, size_t);
int main(int argc, char **argv) {
  char *x = new char[16];
  x[10] = 0;
  __asan_poison_memory_region(x, 16);
  int res = ((volatile char *)x)[argc * 10];  // BOOOM
  delete[] x;
  return res;
}
