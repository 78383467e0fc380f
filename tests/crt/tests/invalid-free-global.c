// ORIGIN: compiler-rt/test/asan/TestCases/Linux/new_delete_mismatch_global.cpp (C free() form)
// EXPECT: invalid-free -
#include <stdlib.h>
char g[32];
int main() {
  char *volatile p = g;
  free(p);
  return 0;
}
