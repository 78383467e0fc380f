// ORIGIN: compiler-rt/test/asan/TestCases/global-overflow.cpp (a const global in .rodata)
// EXPECT: global-out-of-bounds Read
// EXPECT-TEXT: kTable
const int kTable[5] = {1, 2, 3, 4, 5};
int main(int argc, char **argv) {
  const int *volatile p = kTable;
  return p[4 + argc];
}
