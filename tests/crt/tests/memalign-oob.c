// ORIGIN: compiler-rt/test/asan/TestCases (aligned allocation family: posix_memalign/aligned_alloc/memalign/valloc overflow; cf. Posix/large_allocator_unpoisons_on_free.cpp)
// OPTIONS: kasan_multi_shot
// EXPECT: (slab|kmalloc|page)-out-of-bounds Write
// EXPECT-COUNT: 4
#include <malloc.h>
#include <stdlib.h>
int main() {
  volatile char *volatile a, *volatile b, *volatile c, *volatile d;
  posix_memalign((void **)&a, 64, 100);
  b = (char *)aligned_alloc(256, 512);
  c = (char *)memalign(128, 33);
  d = (char *)valloc(5000);
  a[100] = 1; b[512] = 1; c[33] = 1; d[5000] = 1;
  free((void *)a); free((void *)b); free((void *)c); free((void *)d);
  return 0;
}
