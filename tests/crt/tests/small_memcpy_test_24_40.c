// ORIGIN: compiler-rt/test/asan/TestCases/small_memcpy_test.cpp (run with 24 40)
// memcpy(A1, A2, 64) after __asan_poison_memory_region(A1 + from, to - from).
// ARGS: 24 40
// XFAIL: gcc,outline -- gcc expands a constant-size memcpy between stack arrays into unchecked moves it proves in bounds, so a region poisoned by hand inside the array is not seen (gcc -fsanitize=address + libasan is silent too; clang checks it)
// EXPECT: use-after-poison Write
#include <assert.h>
#include <kasan.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv) {
  assert(argc == 3);
  size_t poison_from = atoi(argv[1]);
  size_t poison_to = atoi(argv[2]);
  assert(poison_from <= poison_to);
  char A1[64], A2[64];
  memset(A2, 1, sizeof A2);
  fprintf(stderr, "%zd %zd\n", poison_from, poison_to - poison_from);
  __asan_poison_memory_region(&A1[0] + poison_from, poison_to - poison_from);
  memcpy(A1, A2, sizeof(A1));
  __asan_unpoison_memory_region(A1, sizeof A1);
  __asm__ volatile("" ::"r"(A1) : "memory");
  return 0;
}
