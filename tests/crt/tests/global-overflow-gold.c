// ORIGIN: compiler-rt/test/asan/TestCases/Linux/global-overflow-gold.cpp
// Globals in their own sections, linked by BFD with --gc-sections: redzones still there.
// CFLAGS: -ffunction-sections -fdata-sections
// LDFLAGS: -fuse-ld=gold -Wl,-gc-sections
// EXPECT: global-out-of-bounds Read
// EXPECT-TEXT: YYY
#include <string.h>
int main(int argc, char **argv) {
  static char XXX[10];
  static char YYY[10];
  static char ZZZ[10];
  memset(XXX, 0, 10);
  memset(YYY, 0, 10);
  memset(ZZZ, 0, 10);
  int res = ((volatile char *)YYY)[argc * 10];  // BOOOM
  res += XXX[argc] + ZZZ[argc];
  return res;
}
