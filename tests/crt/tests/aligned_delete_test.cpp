// ORIGIN: compiler-rt/test/asan/TestCases/Linux/aligned_delete_test.cpp
// C++17 aligned new/delete (sized and unsized, array and not): no report, alignment kept.
// CFLAGS: -std=c++17 -faligned-new -fsized-deallocation
// EXPECT: silent
#include <cassert>
#include <cstdint>
#include <new>
struct alignas(64) A { char c[100]; };
struct alignas(1024) B { char c[10]; };
int main() {
  for (int i = 0; i < 100; i++) {
    A *a = new A;
    assert(((uintptr_t)a & 63) == 0);
    a->c[99] = 1;
    delete a;
    B *b = new B[3];
    assert(((uintptr_t)b & 1023) == 0);
    b[2].c[9] = 1;
    delete[] b;
    void *p = operator new(40, std::align_val_t(256));
    assert(((uintptr_t)p & 255) == 0);
    operator delete(p, 40, std::align_val_t(256));
    p = operator new[](40, std::align_val_t(128));
    operator delete[](p, std::align_val_t(128));
  }
  return 0;
}
