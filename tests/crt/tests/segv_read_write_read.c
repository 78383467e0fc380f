// ORIGIN: compiler-rt/test/asan/TestCases/Linux/segv_read_write.c (read run)
// read of an unmapped page (mmap'd then munmap'd): the runtime prints its "kasan: SEGV"
// line (ASan also says "The signal is caused by a READ memory access") and dies of SIGSEGV.
// EXPECT: nobug
// EXPECT-TEXT: kasan: SEGV on unknown address
// EXIT: 139
#include <sys/mman.h>
static volatile int sink;
__attribute__((noinline)) void Read(int *ptr) { sink = *ptr; }
__attribute__((noinline)) void Write(int *ptr) { *ptr = 0; }
int main(int argc, char **argv) {
  void *volatile p = mmap(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap(p, 4096);
  Read((int *)p);
  return 0;
}
