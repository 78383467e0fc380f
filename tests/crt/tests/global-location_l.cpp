// ORIGIN: compiler-rt/test/asan/TestCases/global-location.cpp (run with l)
// g: global int[10]; c: class static int[10]; f: function static int[10]; l: string literal.
// ARGS: l
// EXPECT: global-out-of-bounds Read
// EXPECT-TEXT: The buggy address belongs to the variable:
#include <string.h>
struct C {
  static int array[10];
};
int global[10];
int C::array[10];
int main(int argc, char **argv) {
  int one = argc - 1;
  switch (argv[1][0]) {
  case 'g': return ((volatile int *)global)[one * 11];
  case 'c': return ((volatile int *)C::array)[one * 11];
  case 'f': {
    static int array[10];
    memset(array, 0, 10);
    return ((volatile int *)array)[one * 11];
  }
  case 'l': {
    const char *str = "0123456789";
    return ((volatile const char *)str)[one * 11];
  }
  }
  return 0;
}
