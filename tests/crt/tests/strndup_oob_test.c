// ORIGIN: compiler-rt/test/asan/TestCases/Posix/strndup_oob_test.cpp
// EXPECT: slab-out-of-bounds Read
// EXPECT-TEXT: allocated 3-byte region
#define _GNU_SOURCE
#include <string.h>
char kString[] = "foo";
int main(int argc, char **argv) {
  char *copy = strndup(kString, 2);
  int x = ((volatile char *)copy)[2 + argc];  // BOOM
  return x;
}
