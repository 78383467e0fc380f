// ORIGIN: compiler-rt/test/asan/TestCases/Posix/assign_large_valloc_to_global.cpp
// EXPECT: silent
#include <stdlib.h>
int *p;
int main() { return posix_memalign((void **)&p, 4096, 1 << 20); }
