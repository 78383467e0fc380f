// ORIGIN: compiler-rt/test/asan/TestCases (heap-buffer-overflow through std::vector storage, past capacity; container-overflow itself is N/A)
// EXPECT: slab-out-of-bounds Read
// EXPECT-SIZE: 4
#include <vector>
int main(int argc, char **argv) {
  std::vector<int> v(10);
  v.shrink_to_fit();
  int *volatile d = v.data();
  return d[v.capacity() + argc - 1];
}
