// ORIGIN: compiler-rt/test/asan/TestCases/use-after-poison.cpp (ASAN_POISON_MEMORY_REGION macro form, user arena)
// A user-managed arena: poison a chunk, touch it, unpoison, touch again (fine).
// EXPECT: use-after-poison Write
// EXPECT-COUNT: 1
// OPTIONS: kasan_multi_shot
#include <kasan.h>
#include <stdlib.h>
#ifndef ASAN_POISON_MEMORY_REGION
#define ASAN_POISON_MEMORY_REGION(a, s) __asan_poison_memory_region((a), (s))
#define ASAN_UNPOISON_MEMORY_REGION(a, s) __asan_unpoison_memory_region((a), (s))
#endif
static char arena[4096] __attribute__((aligned(64)));
int main(void) {
  ASAN_POISON_MEMORY_REGION(arena, sizeof arena);
  ASAN_UNPOISON_MEMORY_REGION(arena, 64);
  volatile char *p = arena;
  __asm__ volatile("" : "+r"(p));  // opaque: compilers skip checks of constant in-bounds offsets into a global
  p[63] = 1;    // fine
  p[64] = 1;    // BOOM: poisoned
  ASAN_UNPOISON_MEMORY_REGION(arena, sizeof arena);
  p[64] = 2;    // fine again
  return 0;
}
