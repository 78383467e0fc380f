// ORIGIN: compiler-rt/test/asan/TestCases/poison_partial.cpp (global run)
// char g[21], 4-byte read at offset 20.
// XFAIL: clang -- clang skips the check: g+20 (4 bytes) is "in bounds" of the global once padded with its redzone (cf. PR52382, fixed only for accesses past the redzone start it can see); gcc checks it
// EXPECT: global-out-of-bounds Read
// EXPECT-SIZE: 4
#include <string.h>
char g[21];
char *x;
int main(int argc, char **argv) {
  x = &g[0];
  memset(x, 0, 21);
  int *y = (int *)x;
  return ((volatile int *)y)[5];
}
