// ORIGIN: compiler-rt/test/asan/TestCases/use-after-free.cpp (UAF detected after 1 MiB of other allocations: the object is still quarantined)
// EXPECT: slab-use-after-free Read
#include <stdlib.h>
int main() {
  char *volatile p = malloc(100);
  free(p);
  for (int i = 0; i < 1024; i++) free(malloc(1024));
  return p[50];
}
