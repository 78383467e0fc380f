// ORIGIN: compiler-rt/test/asan/TestCases/Posix/large_allocator_unpoisons_on_free.cpp
// posix_memalign(4096, 1 MiB), free, then MAP_FIXED mmap over the same address and use it.
// The original runs with quarantine_size_mb=0; here kasan.quarantine_size=0. Once freed
// (no quarantine), the block must not keep freed shadow if the program maps over it.
// program makes over it is its own memory. ASan: no report. Linux has no equivalent;
// here a report (slab-use-after-free on memset) would be a false positive for a program
// that legitimately maps over freed heap.
// OPTIONS: kasan.quarantine_size=0
// EXPECT: silent
#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
int main() {
  const long kPageSize = sysconf(_SC_PAGESIZE);
  void *p;
  posix_memalign(&p, kPageSize, 1024 * 1024);
  free(p);
  char *q = (char *)mmap(p, kPageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON | MAP_FIXED, -1, 0);
  assert(q == p);
  memset(q, 42, kPageSize);
  munmap(q, kPageSize);
  return 0;
}
