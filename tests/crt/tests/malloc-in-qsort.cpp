// ORIGIN: compiler-rt/test/asan/TestCases/Linux/malloc-in-qsort.cpp
// new int[10] inside a qsort callback, read of [10] later: the allocation trace starts
// at QsortCallback.
// EXPECT: slab-out-of-bounds Read
// EXPECT-TEXT: located 0 bytes to the right of
// EXPECT-TEXT:  QsortCallback+
#include <stdio.h>
#include <stdlib.h>
int *GlobalPtr;
extern "C" {
int QsortCallback(const void *a, const void *b) {
  char *x = (char *)a;
  char *y = (char *)b;
  printf("Calling QsortCallback\n");
  GlobalPtr = new int[10];
  return (int)*x - (int)*y;
}
__attribute__((noinline)) void MyQsort(char *a, size_t size) {
  printf("Calling qsort\n");
  qsort(a, size, sizeof(char), QsortCallback);
  printf("Done\n");  // Avoid tail call.
}
}  // extern "C"
int main() {
  char a[2] = {1, 2};
  MyQsort(a, 2);
  return ((volatile int *)GlobalPtr)[10];
}
