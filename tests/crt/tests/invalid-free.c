// ORIGIN: compiler-rt/test/asan/TestCases/invalid-free.cpp
// free() of a pointer 5 bytes into a heap object.
// EXPECT: invalid-free -
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv) {
  char *x = (char *)malloc(10 * sizeof(char));
  memset(x, 0, 10);
  int res = x[argc];
  free(x + 5);  // BOOM
  return res;
}
