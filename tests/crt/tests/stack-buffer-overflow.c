// ORIGIN: compiler-rt/test/asan/TestCases/stack-buffer-overflow.cpp
// EXPECT: stack-out-of-bounds Read
// EXPECT-SIZE: 1
// EXPECT-IN: main
// EXPECT-TEXT: stack-buffer-overflow.c:10
#include <string.h>
int main(int argc, char **argv) {
  char x[10];
  memset(x, 0, 10);
  int res = ((volatile char *)x)[argc * 10];  // BOOOM
  return res;
}
