// ORIGIN: compiler-rt/test/asan/TestCases/deep_tail_call.cpp
// EXPECT: global-out-of-bounds Read
// XFAIL: clang -- clang tail-calls call1->call2->call3->call4 at -O1 (ASan too: compiler-rt lit builds its tests with -fno-optimize-sibling-calls), so call1..call3 are not in the trace; kasan cc could add -fno-optimize-sibling-calls
// EXPECT-IN: call4
// EXPECT-TEXT: call3
// EXPECT-TEXT: call1
int global[10];
void __attribute__((noinline)) call4(int i) { global[i + 10]++; }
void __attribute__((noinline)) call3(int i) { call4(i); }
void __attribute__((noinline)) call2(int i) { call3(i); }
void __attribute__((noinline)) call1(int i) { call2(i); }
int main(int argc, char **argv) {
  call1(argc);
  return global[0];
}
