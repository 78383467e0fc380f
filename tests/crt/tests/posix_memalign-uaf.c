// ORIGIN: compiler-rt/test/asan/TestCases/Posix/large_allocator_unpoisons_on_free.cpp (UAF of a 1 MiB page-aligned block)
// EXPECT: (slab-)?use-after-free Read
#include <stdlib.h>
#include <unistd.h>
int main() {
  char *p;
  posix_memalign((void **)&p, sysconf(_SC_PAGESIZE), 1 << 20);
  p[100] = 1;
  free(p);
  return ((volatile char *)p)[100];
}
