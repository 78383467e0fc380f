// ORIGIN: compiler-rt/test/asan/TestCases/Posix/dlclose-test.cpp
// dlopen, take the address of a library static, dlclose, mmap the page again at the same
// address and use it: the library's global redzones must have been removed at dlclose
// (__asan_unregister_globals).
// LIB: dlclose-test.lib.c
// EXPECT: silent
// EXPECT-STDOUT: PASS
#include <assert.h>
#include <dlfcn.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>
typedef int *(fun_t)(void);
int main(int argc, char *argv[]) {
  size_t PageSize = sysconf(_SC_PAGESIZE);
  void *lib = dlopen(LIB_PATH, RTLD_NOW);
  if (!lib) { printf("error in dlopen(): %s\n", dlerror()); return 1; }
  fun_t *get = (fun_t *)dlsym(lib, "get_address_of_static_var");
  if (!get) { printf("failed dlsym\n"); return 1; }
  int *volatile addr = get();
  printf("addr: %p\n", addr);
  addr[0] = 1;
  if (dlclose(lib)) { printf("failed to dlclose\n"); return 1; }
  size_t page_beg = ((size_t)addr) & ~(PageSize - 1);
  void *res = mmap((void *)(page_beg), PageSize, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANON | MAP_FIXED | MAP_NORESERVE, -1, 0);
  if (res == (char *)-1L) { printf("failed to mmap\n"); return 1; }
  for (int i = 1; i < 64; i++) addr[i] = 2;  // BOOM (if the bug is not fixed).
  printf("PASS\n");
  return 0;
}
