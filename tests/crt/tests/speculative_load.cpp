// ORIGIN: compiler-rt/test/asan/TestCases/speculative_load.cpp
// EXPECT: silent
#include <kasan.h>
struct S {
  struct _long {
    void *_pad;
    char *_ptr;
  };
  struct _short {
    unsigned char _size;
    char _ch[23];
  };
  union {
    _short _s;
    _long _l;
  } _data;
  S() {
    _data._s._size = 0;
    __asan_poison_memory_region(_data._s._ch, 23);
  }
  bool is_long() const { return _data._s._size & 1; }
  const char *get_pointer() const { return is_long() ? _data._l._ptr : _data._s._ch; }
};
inline void side_effect(const void *arg) { __asm__ __volatile__("" : : "r"(arg) : "memory"); }
int main(int argc, char **argv) {
  S s;
  side_effect(&s);  // optimization is only valid if s is not changed by side_effect
  side_effect(s.get_pointer());  // test is only valid if get_pointer is not changed
  return 0;
}
