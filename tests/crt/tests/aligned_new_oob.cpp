// ORIGIN: compiler-rt/test/asan/TestCases/Linux/aligned_delete_test.cpp (overflow of an over-aligned new)
// CFLAGS: -std=c++17 -faligned-new
// EXPECT: slab-out-of-bounds Write
// EXPECT-TEXT: allocated 128-byte region
struct alignas(64) A { char c[100]; };
int main() {
  A *a = new A;
  ((volatile char *)a)[sizeof(A)] = 1;  // sizeof(A) == 128: alignas rounds the size up
  delete a;
  return 0;
}
