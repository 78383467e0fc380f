// ORIGIN: compiler-rt/test/asan/TestCases/use-after-free.cpp (through the strlen interceptor)
// EXPECT: slab-use-after-free Read
#include <stdlib.h>
#include <string.h>
int main() {
  char *volatile p = malloc(16);
  strcpy(p, "hello");
  free(p);
  return (int)strlen(p);
}
