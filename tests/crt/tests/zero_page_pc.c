// ORIGIN: compiler-rt/test/asan/TestCases/zero_page_pc.cpp
// Calling a function pointer 0x4: SEGV at pc 4; the runtime prints its "kasan: SEGV" line
// and the process dies of SIGSEGV.
// EXPECT: nobug
// EXPECT-TEXT: kasan: SEGV on unknown address
// EXIT: 139
typedef void void_f(void);
int main() {
  void_f *volatile func = (void_f *)0x4;
  func();
  return 0;
}
