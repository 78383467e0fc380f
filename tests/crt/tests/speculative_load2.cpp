// ORIGIN: compiler-rt/test/asan/TestCases/speculative_load2.cpp
// EXPECT: silent
typedef union {
  short q;
  struct {
    short x;
    short y;
    int for_alignment;
  } w;
} U;
int main() {
  char *buf = new char[2];
  buf[0] = buf[1] = 0x0;
  U *u = (U *)buf;
  short result = u->q == 0 ? 0 : u->w.y;
  delete[] buf;
  return result;
}
