// ORIGIN: compiler-rt/test/asan/TestCases/halt_on_error-1.c
// Recovery mode: with kasan_multi_shot all 4 bugs are reported in order (memset Write of
// 11, Read of 1, Write of 1, Read of 1).
// OPTIONS: kasan_multi_shot
// EXPECT: stack-out-of-bounds Write
// EXPECT-SIZE: 11
// EXPECT-COUNT: 4
#include <string.h>
volatile int ten = 10;
int main() {
  char x[10];
  memset(x, 0, ten + 1);
  volatile int res = ((volatile char *)x)[ten];
  ((volatile char *)x)[ten] = res + 3;
  res = ((volatile char *)x)[ten];
  return 0;
}
