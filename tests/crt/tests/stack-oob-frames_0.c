// ORIGIN: compiler-rt/test/asan/TestCases/stack-oob-frames.cpp (run with 0)
// c[5]++ on a char[4] owned by Frame0, accessed from Frame0.
// ARGS: 0
// EXPECT: stack-out-of-bounds Read
// EXPECT-IN: Frame0
// EXPECT-TEXT: Frame0
#define NOINLINE __attribute__((noinline))
static inline void break_optimization(void *arg) { __asm__ __volatile__("" : : "r"(arg) : "memory"); }
NOINLINE static void Frame0(int frame, char *a, char *b, char *c) {
  char s[4] = {0};
  char *d = s;
  break_optimization(&d);
  switch (frame) {
    case 3: a[5]++; break;
    case 2: b[5]++; break;
    case 1: c[5]++; break;
    case 0: d[5]++; break;
  }
}
NOINLINE static void Frame1(int frame, char *a, char *b) {
  char c[4] = {0}; Frame0(frame, a, b, c);
  break_optimization(0);
}
NOINLINE static void Frame2(int frame, char *a) {
  char b[4] = {0}; Frame1(frame, a, b);
  break_optimization(0);
}
NOINLINE static void Frame3(int frame) {
  char a[4] = {0}; Frame2(frame, a);
  break_optimization(0);
}
int main(int argc, char **argv) {
  if (argc != 2) return 1;
  Frame3(argv[1][0] - '0');
  return 0;
}
