// ORIGIN: compiler-rt/test/asan/TestCases/Linux/overflow-in-qsort.cpp (CHECK-SLOW: full trace)
// Same, but the call trace must also reach MyQsort and main through qsort.
// EXPECT: global-out-of-bounds Write
// EXPECT-TEXT:  MyQsort+
// EXPECT-TEXT:  main+
#include <stdio.h>
#include <stdlib.h>
int global_array[10];
volatile int one = 1;
int QsortCallback(const void *a, const void *b) {
  global_array[one * 10] = 0;  // BOOM
  return (int)*(char *)a - (int)*(char *)b;
}
__attribute__((noinline)) void MyQsort(char *a, size_t size) {
  qsort(a, size, sizeof(char), QsortCallback);
  printf("Done\n");
}
int main() {
  char a[2] = {1, 2};
  MyQsort(a, 2);
  return 0;
}
