// ORIGIN: compiler-rt/test/asan/TestCases/intercept-rethrow-exception.cpp
// std::rethrow_exception called from uninstrumented code (no __asan_handle_no_return
// before it): after the catch, the frame's redzones must be gone (ASan intercepts
// _Unwind_RaiseException / std::rethrow_exception). Checked by writing the area from a
// deeper instrumented frame.
// EXPECT: silent
#include <exception>
#include <stdio.h>
#include <string.h>
namespace {
void __attribute__((noinline, no_sanitize("address")))
uninstrumented_rethrow_exception(std::exception_ptr const &exc_ptr) {
  std::rethrow_exception(exc_ptr);
}
char *volatile poisoned1;
char *volatile poisoned2;
void __attribute__((noinline)) create_redzones_and_throw(std::exception_ptr const &exc_ptr) {
  char a[100];
  memset(a, 0, sizeof a);
  poisoned1 = a - 1;
  poisoned2 = a + sizeof(a);
  uninstrumented_rethrow_exception(exc_ptr);
}
}  // namespace
__attribute__((noinline)) void touch_range() {
  // the stale redzones around a[] are below this frame's locals? write through pointers.
  for (volatile char *p = poisoned1; p <= poisoned2; p++) *p = 0;
}
int main() {
  std::exception_ptr my_exception_ptr = std::make_exception_ptr("up");
  try {
    create_redzones_and_throw(my_exception_ptr);
  } catch (char const *) {
    touch_range();
  }
  fprintf(stderr, "ok\n");
}
