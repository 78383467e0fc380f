// ORIGIN: compiler-rt/test/asan/TestCases/Posix/strchr.c
// strchr(s, 'x') where 'x' is the last byte before a PROT_NONE page: the checked strchr
// must not read beyond the character it finds (no SEGV, no report).
// EXPECT: silent
#include <assert.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
int main(int argc, char **argv) {
  size_t page_size = sysconf(_SC_PAGE_SIZE);
  size_t size = 2 * page_size;
  char *s = (char *)mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  assert(s != MAP_FAILED);
  memset(s, 'o', size);
  s[size - 1] = 0;
  char *p = s + page_size - 1;
  *p = 'x';
  if (mprotect(p + 1, 1, PROT_NONE)) return 1;
  char *volatile r = strchr(s, 'x');
  assert(r == p);
  return 0;
}
