// ORIGIN: compiler-rt/test/asan/TestCases/force_inline_opt0.cpp
// An always_inline function is instrumented once (before or after inlining), at -O0.
// CFLAGS: -O0
// EXPECT: silent
__attribute__((always_inline)) static inline void foo(int *x) { *x = 0; }
int main() {
  int x;
  foo(&x);
  return x;
}
