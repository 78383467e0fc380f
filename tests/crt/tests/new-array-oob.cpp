// ORIGIN: compiler-rt/test/asan/TestCases/Posix/new_array_cookie_test.cpp (without the cookie part)
// new C[10] of a class with a destructor (array cookie in front), write past the last element.
// EXPECT: slab-out-of-bounds Write
struct C { int x; ~C() { x = 0; } };
int main() {
  C *volatile c = new C[10];
  ((volatile int *)&c[10].x)[0] = 1;
  delete[] c;
  return 0;
}
