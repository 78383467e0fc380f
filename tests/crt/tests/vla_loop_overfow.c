// ORIGIN: compiler-rt/test/asan/TestCases/vla_loop_overfow.cpp
// EXPECT: alloca-out-of-bounds Write
// EXPECT-SIZE: 1
#include <assert.h>
#include <stdint.h>
void foo(int index, int len) {
  for (int i = 1; i < len; ++i) {
    volatile char array[len];
    assert(!((uintptr_t)array & 31L));
    array[index + i] = 0;
  }
}
int main(int argc, char **argv) {
  foo(9, 21);
  return 0;
}
