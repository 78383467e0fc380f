// ORIGIN: compiler-rt/test/asan/TestCases/Linux/new_delete_mismatch_global.cpp
// delete of a pointer into a global array. ASan: bad-free; Linux KASAN: invalid-free.
// EXPECT: invalid-free -
// EXPECT-TEXT: The buggy address belongs to the variable:
static volatile char *x;
char a[10];
int main() {
  x = &a[0];
  delete x;
}
