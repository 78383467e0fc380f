// ORIGIN: compiler-rt/test/asan/TestCases/Posix/strndup_oob_test2.cpp
// strndup(kChars, 10) where kChars is a 3-byte global without NUL: reads past the global.
// EXPECT: global-out-of-bounds Read
#define _GNU_SOURCE
#include <string.h>
char kChars[] = {'f', 'o', 'o'};
int main(int argc, char **argv) {
  char *copy = strndup(kChars, 3);
  copy = strndup(kChars, 10);
  return *copy;
}
