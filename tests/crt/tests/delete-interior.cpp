// ORIGIN: compiler-rt/test/asan/TestCases/invalid-free.cpp (operator delete of an interior pointer)
// EXPECT: invalid-free -
int main() {
  int *volatile p = new int[8];
  delete[] (p + 1);
  return 0;
}
