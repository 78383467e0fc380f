// ORIGIN: compiler-rt/test/asan/TestCases/Linux/preinit_test.cpp
// An instrumented global initializer that runs before main (template static member),
// in a program also linked with an uninstrumented shared library doing the same: the
// runtime must be initialised before any instrumented code runs.
// EXPECT: silent
struct A {
  int foo() const { return 0; }
};
A get() { return A(); }
template <class> struct O {
  static A const e;
};
template <class T> A const O<T>::e = get();
int main() { return O<int>::e.foo(); }
