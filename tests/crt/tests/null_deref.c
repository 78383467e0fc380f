// ORIGIN: compiler-rt/test/asan/TestCases/null_deref.cpp
// ptr[10]++ through NULL. Linux KASAN: null-ptr-deref (address in the first page), then the
// access faults and the process dies of SIGSEGV.
// Outline builds print Linux outline's "BUG: KASAN: null-ptr-deref in NullDeref"; inline
// builds, as an inline-KASAN x86-64 kernel does, the general protection fault ("Oops:
// general protection fault ...", "KASAN: null-ptr-deref in range [...]", "RIP:
// 0010:NullDeref+0x..") and the task dies.
// EXPECT: any
// EXPECT-TEXT: null-ptr-deref in
// EXPECT-TEXT: NullDeref+
// EXIT: nonzero
__attribute__((noinline)) static void NullDeref(int *ptr) {
  ((volatile int *)ptr)[10]++;  // BOOM
}
int main() {
  NullDeref((int *)0);
  return 0;
}
