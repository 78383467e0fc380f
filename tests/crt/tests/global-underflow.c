// ORIGIN: compiler-rt/test/asan/TestCases/global-underflow.cpp (two files: YYY defined in the second)
// EXPECT: global-out-of-bounds Read
// XFAIL: all -- layout: the compiler puts the uninstrumented global descriptor array (gcc .LASAN0, clang __unnamed_1) in .data right before YYY, so YYY[-1] hits it; globals have only right redzones (same in Linux)
// EXPECT-SIZE: 4
// EXPECT-TEXT: YYY
// EXTRA-SRC: global-underflow.lib.c
#include <string.h>
int XXX[2] = {2, 3};
extern int YYY[];
int main(int argc, char **argv) {
  memset(XXX, 0, 2 * sizeof(int));
  int res = ((volatile int *)YYY)[-1];
  return res;
}
