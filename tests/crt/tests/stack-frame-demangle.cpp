// ORIGIN: compiler-rt/test/asan/TestCases/stack-frame-demangle.cpp
// EXPECT: stack-out-of-bounds Read
// EXPECT-SIZE: 1
// EXPECT-TEXT: XXX::YYY::ZZZ
#include <string.h>
namespace XXX {
struct YYY {
  static int ZZZ(int x) {
    char array[10];
    memset(array, 0, 10);
    return ((volatile char *)array)[x];  // BOOOM
  }
};
}  // namespace XXX
int main(int argc, char **argv) {
  int res = XXX::YYY::ZZZ(argc + 10);
  return res;
}
