// ORIGIN: compiler-rt/test/asan/TestCases/Linux/new_delete_mismatch_stack.cpp (C free() form)
// EXPECT: invalid-free -
#include <stdlib.h>
int main() {
  char a[10];
  char *volatile x = a;
  free(x);
  return 0;
}
