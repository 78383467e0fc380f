// ORIGIN: compiler-rt/test/asan/TestCases/Posix/unpoison-alternate-stack.cpp
// longjmp out of frames with redzones on the default stack, on the sigaltstack (inside a
// SIGUSR1 handler) and from the altstack back to the thread stack: afterwards the redzone
// areas must be clean (the original asks __asan_region_is_poisoned; here every byte of
// [LeftRedzone, RightRedzone] is written by instrumented code).
// EXPECT: silent
// EXPECT-STDOUT: done
#include <algorithm>
#include <cassert>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>
namespace {
struct TestContext {
  char *LeftRedzone;
  char *RightRedzone;
  std::jmp_buf JmpBuf;
};
TestContext defaultStack;
TestContext signalStack;
__attribute__((noinline)) void check_clean(TestContext &c) {
  for (volatile char *p = c.LeftRedzone; p <= (volatile char *)c.RightRedzone; p++) *p = 0;
}
template <class Jump>
void __attribute__((noinline)) poisonStackAndJump(TestContext &c, Jump jump) {
  char Blob[100];
  memset(Blob, 0, sizeof Blob);
  c.LeftRedzone = Blob - 1;
  c.RightRedzone = Blob + sizeof(Blob);
  __asm__ volatile("" ::"r"(Blob) : "memory");
  jump();
}
void testOnCurrentStack() {
  TestContext c;
  if (0 == setjmp(c.JmpBuf)) poisonStackAndJump(c, [&] { longjmp(c.JmpBuf, 1); });
  check_clean(c);
}
bool isOnSignalStack() {
  stack_t Stack;
  sigaltstack(nullptr, &Stack);
  return Stack.ss_flags == SS_ONSTACK;
}
void signalHandler(int, siginfo_t *, void *) {
  assert(isOnSignalStack());
  testOnCurrentStack();
  poisonStackAndJump(signalStack, [] { longjmp(defaultStack.JmpBuf, 1); });
}
void setSignalAlternateStack(void *AltStack) {
  sigaltstack((stack_t const *)AltStack, nullptr);
  struct sigaction Action = {};
  Action.sa_sigaction = signalHandler;
  Action.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
  sigemptyset(&Action.sa_mask);
  sigaction(SIGUSR1, &Action, nullptr);
}
void *threadFun(void *AltStack) {
  testOnCurrentStack();
  setSignalAlternateStack(AltStack);
  testOnCurrentStack();
  if (0 == setjmp(defaultStack.JmpBuf)) poisonStackAndJump(defaultStack, [] { raise(SIGUSR1); });
  assert(!isOnSignalStack());
  check_clean(defaultStack);
  check_clean(signalStack);
  return nullptr;
}
}  // namespace
int main() {
  size_t const PageSize = sysconf(_SC_PAGESIZE);
  size_t const MinStackSize = std::max<size_t>(PTHREAD_STACK_MIN, 64 * 1024);
  size_t const DefaultStackSize = (MinStackSize - 1 + PageSize) & ~(PageSize - 1);
  size_t const AltStackSize = 10 * PageSize;
  size_t const MappingSize = DefaultStackSize + AltStackSize;
  void *const Mapping = mmap(nullptr, MappingSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  stack_t AltStack = {};
  AltStack.ss_sp = (char *)Mapping + DefaultStackSize;
  AltStack.ss_flags = 0;
  AltStack.ss_size = AltStackSize;
  pthread_t Thread;
  pthread_attr_t ThreadAttr;
  pthread_attr_init(&ThreadAttr);
  pthread_attr_setstack(&ThreadAttr, Mapping, DefaultStackSize);
  pthread_create(&Thread, &ThreadAttr, &threadFun, (void *)&AltStack);
  pthread_attr_destroy(&ThreadAttr);
  pthread_join(Thread, nullptr);
  munmap(Mapping, MappingSize);
  printf("done\n");
}
