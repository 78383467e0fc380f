// ORIGIN: compiler-rt/test/asan/TestCases/pass-struct-byval.cpp
// A trivially copyable struct passed by value (on the stack, byval) read 4 bytes to its
// left. The byval copy is instrumented by clang (a local copy with redzones); gcc reads
// the incoming argument area, which has no redzone.
// EXPECT: stack-out-of-bounds Read
// EXPECT-SIZE: 4
struct A {
  int a[8];
};
int bar(A *a) {
  int *volatile ptr = &a->a[0];
  return *(volatile int *)(ptr - 1);
}
void foo(A a) { bar(&a); }
int main() { foo(A()); }
