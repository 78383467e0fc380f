// ORIGIN: compiler-rt/test/asan/TestCases/use-after-delete.cpp (nothrow new / sized delete forms)
// CFLAGS: -fsized-deallocation
// EXPECT: slab-use-after-free Read
#include <new>
struct S { long a[4]; };
int main() {
  S *volatile s = new (std::nothrow) S;
  delete s;
  return (int)((volatile long *)s->a)[2];
}
