// ORIGIN: compiler-rt/test/asan/TestCases/halt_on_error-1.c (default: CHECK-NOT further reports)
// Without multi-shot only the first report is printed, and the program carries on (exit 0,
// as kasan.fault=report).
// EXPECT: stack-out-of-bounds Write
// EXPECT-COUNT: 1
// EXIT: 0
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
