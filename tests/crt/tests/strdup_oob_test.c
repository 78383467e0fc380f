// ORIGIN: compiler-rt/test/asan/TestCases/strdup_oob_test.cpp
// EXPECT: slab-out-of-bounds Read
// EXPECT-TEXT: allocated 4-byte region
// EXPECT-TEXT: strdup_oob_test.c:9
#include <string.h>
char kString[] = "foo";
int main(int argc, char **argv) {
  char *copy = strdup(kString);
  int x = ((volatile char *)copy)[4 + argc];  // BOOM
  return x;
}
