// ORIGIN: compiler-rt/test/asan/TestCases/Posix/high-address-dereference.c (address 0x414141414141)
// An 8-byte load from 0x414141414141: no KASAN report for a user-space address with zero shadow
// (or null-ptr-deref for the first page), then SIGSEGV, reported by the runtime's handler.
// ARGS: 0x414141414141
// EXPECT: nobug
// EXPECT-TEXT: kasan: SEGV on unknown address
// EXIT: 139
#include <stdint.h>
#include <stdlib.h>
int main(int argc, const char *argv[]) {
  const char *hex = argv[1];
  uint64_t *addr = (uint64_t *)strtoull(hex, NULL, 16);
  uint64_t x = *(volatile uint64_t *)addr;  // segmentation fault
  return x;
}
