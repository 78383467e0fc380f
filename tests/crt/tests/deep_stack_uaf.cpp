// ORIGIN: compiler-rt/test/asan/TestCases/deep_stack_uaf.cpp
// EXPECT: slab-use-after-free Read
// CFLAGS: -fno-inline
#include <stdlib.h>
#include <stdio.h>
template <int depth>
struct DeepFree {
  static void free(char *x) { DeepFree<depth - 1>::free(x); }
};
template <>
struct DeepFree<0> {
  static void free(char *x) { ::free(x); }
};
int main() {
  char *x = (char *)malloc(10);
  // deep_free(x);
  DeepFree<200>::free(x);
  return x[5];
}
