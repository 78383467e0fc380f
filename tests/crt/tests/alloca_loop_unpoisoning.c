// ORIGIN: compiler-rt/test/asan/TestCases/alloca_loop_unpoisoning.cpp
// VLAs and allocas in a loop; after foo returns, the whole stack area it used must be
// clean. (The original checks __asan_region_is_poisoned(bot, top - bot) == 0; here a deeper
// frame reads every byte of that area.)
// EXPECT: silent
// EXPECT-STDOUT: ok
#include <alloca.h>
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
char *volatile top, *volatile bot;
__attribute__((noinline)) void foo(int len) {
  char x;
  top = &x;
  char array[len];
  assert(!((uintptr_t)array & 31L));
  alloca(len);
  for (int i = 0; i < 32; ++i) {
    char array[i];
    bot = (char *)alloca(i);
    assert(!((uintptr_t)bot & 31L));
    (void)array;
  }
}
__attribute__((noinline)) int touch(void) {
  volatile char *p = bot;
  int s = 0;
  while (p < (volatile char *)top) s += *p++;  // instrumented reads of the old frame
  return s;
}
__attribute__((noinline)) void deeper(void) {
  char big[8192];
  memset(big, 0, sizeof big);
  __asm__ volatile("" ::"r"(big) : "memory");
}
int main(int argc, char **argv) {
  foo(32);
  touch();
  deeper();
  printf("ok\n");
  return 0;
}
