// ORIGIN: compiler-rt/test/asan/TestCases/Linux/overflow-in-qsort.cpp
// A global overflow in a qsort callback: the trace unwinds through glibc's qsort (built
// without frame pointers) to MyQsort and main.
// EXPECT: global-out-of-bounds Write
// EXPECT-IN: QsortCallback
// EXPECT-TEXT: global_array
#include <stdio.h>
#include <stdlib.h>
int global_array[10];
volatile int one = 1;
int QsortCallback(const void *a, const void *b) {
  char *x = (char *)a;
  char *y = (char *)b;
  printf("Calling QsortCallback\n");
  global_array[one * 10] = 0;  // BOOM
  return (int)*x - (int)*y;
}
__attribute__((noinline)) void MyQsort(char *a, size_t size) {
  printf("Calling qsort\n");
  qsort(a, size, sizeof(char), QsortCallback);
  printf("Done\n");  // Avoid tail call.
}
int main() {
  char a[2] = {1, 2};
  MyQsort(a, 2);
  return 0;
}
