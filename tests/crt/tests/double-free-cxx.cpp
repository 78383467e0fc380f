// ORIGIN: compiler-rt/test/asan/TestCases/double-free.cpp (C++ delete[] variant)
// EXPECT: double-free -
#include <string.h>
int main(int argc, char **argv) {
  char *x = new char[10];
  memset(x, 0, 10);
  int res = x[argc];
  delete[] x;
  delete[] (x + argc - 1);  // BOOM
  return res;
}
