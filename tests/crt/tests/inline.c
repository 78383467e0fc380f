// ORIGIN: compiler-rt/test/asan/TestCases/inline.cpp
// no_sanitize_address applies even when the function is inlined: no report.
// EXPECT: silent
#include <stdlib.h>
__attribute__((no_sanitize_address)) static inline int f(int *p) {
  return *p;  // BOOOM?? Nope!
}
int main(int argc, char **argv) {
  int *volatile x = (int *)malloc(2 * sizeof(int) + 2);
  int res = f(x + 2);
  free(x);
  if (res) exit(0);
  return 0;
}
