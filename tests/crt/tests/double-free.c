// ORIGIN: compiler-rt/test/asan/TestCases/double-free.cpp
// EXPECT: double-free -
// EXPECT-TEXT: Freed by task
// EXPECT-TEXT: Allocated by task
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv) {
  char *x = (char *)malloc(10 * sizeof(char));
  memset(x, 0, 10);
  int res = x[argc];
  free(x);
  free(x + argc - 1);  // BOOM
  return res;
}
