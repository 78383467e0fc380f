// ORIGIN: compiler-rt/test/asan/TestCases/pass-object-byval.cpp
// An object passed by value (non-trivial copy constructor: lives in the caller's frame)
// XFAIL: gcc,outline -- gcc gives the by-value temporary copy made in the caller no redzones (it lies outside the asan frame)
// read 4 bytes to its left.
// EXPECT: stack-out-of-bounds Read
// EXPECT-SIZE: 4
// EXPECT-NOTEXT: Assertion
#include <cassert>
class A {
 public:
  A() : me(this) {}
  A(const A &other) : me(this) {
    for (int i = 0; i < 8; ++i) a[i] = other.a[i];
  }
  int a[8];
  A *me;
};
int bar(A *a) {
  int *volatile ptr = &a->a[0];
  return *(volatile int *)(ptr - 1);
}
void foo(A a) {
  assert(a.me == &a);
  bar(&a);
}
int main() {
  A a;
  foo(a);
}
