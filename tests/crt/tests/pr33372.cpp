// ORIGIN: compiler-rt/test/asan/TestCases/pr33372.cpp
// No false overflow when the optimizer replaces a local by a smaller global constant.
// CFLAGS: -std=c++11
// EXPECT: silent
// EXPECT-STDOUT: PASSED
#include <stdio.h>
#include <string.h>
struct A { int x, y, z; };
struct B { A a; /*gap*/ long b; };
B *bb;
void test1() {
  A a1 = {1, 1, 2};
  B b1 = {a1, 6};
  bb = new B(b1);
}
const char KKK[] = {1, 1, 2};
char bbb[100000];
void test2() {
  char cc[sizeof(bbb)];
  memcpy(cc, KKK, sizeof(KKK));
  memcpy(bbb, cc, sizeof(bbb));
}
int main(int argc, char *argv[]) {
  test1();
  test2();
  printf("PASSED");
  return 0;
}
