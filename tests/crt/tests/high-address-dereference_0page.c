// ORIGIN: compiler-rt/test/asan/TestCases/Posix/high-address-dereference.c (address 0)
// An 8-byte load from 0: no KASAN report for a user-space address with zero shadow
// (or null-ptr-deref for the first page), then SIGSEGV, reported by the runtime's handler.
// ARGS: 0
// Outline: "BUG: KASAN: null-ptr-deref"; inline: Linux's general protection fault form with
// "KASAN: null-ptr-deref in range [0x0000000000000000-0x0000000000000007]".
// EXPECT: any
// EXPECT-TEXT: null-ptr-deref in

// EXIT: nonzero
#include <stdint.h>
#include <stdlib.h>
int main(int argc, const char *argv[]) {
  const char *hex = argv[1];
  uint64_t *addr = (uint64_t *)strtoull(hex, NULL, 16);
  uint64_t x = *(volatile uint64_t *)addr;  // segmentation fault
  return x;
}
