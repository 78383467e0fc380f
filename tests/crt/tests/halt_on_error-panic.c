// ORIGIN: compiler-rt/test/asan/TestCases/halt_on_error-1.c (halt_on_error=1 <-> kasan.fault=panic)
// OPTIONS: kasan.fault=panic
// EXPECT: stack-out-of-bounds Write
// EXPECT-COUNT: 1
// EXIT: nonzero
// EXPECT-NOTEXT: not reached
#include <stdio.h>
#include <string.h>
volatile int ten = 10;
int main() {
  char x[10];
  memset(x, 0, ten + 1);
  __asm__ volatile("" ::"r"(x) : "memory");
  fprintf(stderr, "not reached\n");
  return 0;
}
