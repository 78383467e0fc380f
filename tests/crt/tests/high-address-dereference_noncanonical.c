// ORIGIN: compiler-rt/test/asan/TestCases/Posix/high-address-dereference.c (address 0xffffffffffffffff)
// A non-canonical address: the kernel gives si_addr 0; the runtime must not call it a NULL
// dereference (ASan: "Hint: this fault was caused by a dereference of a high value address").
// Our shadow check computes (addr >> 3) + offset, which is also non-canonical/unmapped.
// ARGS: 0xfffffffffffffff0
// EXPECT: any
// EXPECT-TEXT: wild-memory-access
// (Linux: inline -> "general protection fault ... KASAN: maybe wild-memory-access"; outline -> a wild-memory-access report)
// EXPECT-NOTEXT: null-ptr-deref
// EXPECT-NOTEXT: panicked
// EXIT: nonzero
#include <stdint.h>
#include <stdlib.h>
int main(int argc, const char *argv[]) {
  uint64_t *addr = (uint64_t *)strtoull(argv[1], NULL, 16);
  uint64_t x = *(volatile uint64_t *)addr;
  return x;
}
