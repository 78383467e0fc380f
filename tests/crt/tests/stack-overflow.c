// ORIGIN: compiler-rt/test/asan/TestCases/Posix/stack-overflow.cpp
// Unbounded recursion with 1 KiB frames under a 256 KiB RLIMIT_STACK (re-exec'd): the
// runtime prints "kasan: stack-overflow on address ..." and the process dies of SIGSEGV.
// EXPECT: nobug
// EXPECT-TEXT: kasan: stack-overflow on address
// EXIT: 139
#include <assert.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>
#define BS 1024
volatile char x;
volatile int y = 1;
void recursive_func(char *p) {
  char buf[BS];
  if (p) assert(p - buf >= BS);
  buf[rand() % BS] = 1;
  buf[rand() % BS] = 2;
  x = buf[rand() % BS];
  if (y) recursive_func(buf);
  x = 1;  // prevent tail call optimization
}
static void LimitStackAndReexec(int argc, char **argv) {
  struct rlimit rlim;
  int res = getrlimit(RLIMIT_STACK, &rlim);
  assert(res == 0);
  if (rlim.rlim_cur == RLIM_INFINITY || rlim.rlim_cur > 256 * 1024) {
    rlim.rlim_cur = 256 * 1024;
    res = setrlimit(RLIMIT_STACK, &rlim);
    assert(res == 0);
    execv(argv[0], argv);
    assert(0 && "unreachable");
  }
}
int main(int argc, char **argv) {
  LimitStackAndReexec(argc, argv);
  recursive_func(0);
  return 0;
}
