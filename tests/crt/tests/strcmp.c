// ORIGIN: compiler-rt/test/asan/TestCases/strcmp.c
// strcmp(s1 - 1, s2) with s1 a stack array: reads the byte left of s1.
// EXPECT: stack-out-of-bounds Read
// EXPECT-SIZE: 1|2
#include <assert.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv) {
  char s1[] = "abcd";
  char s2[] = "1234";
  __asm__ volatile("" ::"r"(s1), "r"(s2) : "memory");
  assert(strcmp(s1, s2) > 0);
  assert(strcmp(s1 - 1, s2));
  return 0;
}
