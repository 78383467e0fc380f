// ORIGIN: compiler-rt/test/asan/TestCases/Linux/new_delete_mismatch_stack.cpp
// delete of a pointer to a stack array. Linux KASAN: invalid-free.
// EXPECT: invalid-free -
// EXPECT-TEXT: stack of task
static volatile char *x;
int main() {
  char a[10];
  x = &a[0];
  delete x;
}
