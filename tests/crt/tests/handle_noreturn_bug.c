// ORIGIN: compiler-rt/test/asan/TestCases/handle_noreturn_bug.cpp
// __asan_handle_no_return unpoisons the whole stack: a later p[2] read past int x[2] is
// not reported (ASan's regression test; the read is a real overflow but the redzone is gone).
// EXPECT: silent
void __asan_handle_no_return(void);
int main(int argc, char **argv) {
  int x[2];
  int *volatile p = &x[0];
  __asan_handle_no_return();
  int volatile z = p[2];
  (void)z;
  return 0;
}
