// ORIGIN: compiler-rt/test/asan/TestCases/global-demangle.cpp
// EXPECT: global-out-of-bounds Read
// EXPECT-SIZE: 1
// EXPECT-TEXT: ZZZ
namespace XXX {
class YYY {
 public:
  static char ZZZ[];
};
char YYY::ZZZ[] = "abc";
}  // namespace XXX
int main(int argc, char **argv) {
  return (int)((volatile char *)XXX::YYY::ZZZ)[argc + 5];  // BOOM
}
