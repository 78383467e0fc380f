// ORIGIN: compiler-rt/test/asan/TestCases/memcmp_test.cpp
// memcmp of two 4-byte stack arrays over 5 bytes (first bytes differ at index 0 only when
// argc != 1; with argc == 1 the arrays are equal over 4 bytes, so memcmp reads byte 5).
// EXPECT: stack-out-of-bounds Read
#include <string.h>
int main(int argc, char **argv) {
  char a1[] = {(char)argc, 2, 3, 4};
  char a2[] = {1, (char)(2 * argc), 3, 4};
  int res = memcmp(a1, a2, 4 + argc);  // BOOM
  return res;
}
