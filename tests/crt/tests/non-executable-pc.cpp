// ORIGIN: compiler-rt/test/asan/TestCases/non-executable-pc.cpp (run with n)
// Calling into a heap buffer (non-executable): SEGV at a pc in the heap; the runtime's
// fault line, the process dies of SIGSEGV. (ASan adds "PC is at a non-executable region".)
// EXPECT: nobug
// EXPECT-TEXT: kasan: SEGV on
// EXPECT-TEXT: instruction fetch
// EXIT: 139
typedef void void_f();
int main(int argc, char **argv) {
  char *array = new char[42];
  void_f *volatile func = (void_f *)array;
  func();
  return 0;
}
