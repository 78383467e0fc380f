// ORIGIN: compiler-rt/test/asan/TestCases/null_deref.cpp
// ptr[10]++ through NULL. Linux KASAN: null-ptr-deref (address in the first page), then the
// access faults and the process dies of SIGSEGV.
// EXPECT: null-ptr-deref Read
// EXPECT-IN: NullDeref
// EXIT: nonzero
__attribute__((noinline)) static void NullDeref(int *ptr) {
  ((volatile int *)ptr)[10]++;  // BOOM
}
int main() {
  NullDeref((int *)0);
  return 0;
}
