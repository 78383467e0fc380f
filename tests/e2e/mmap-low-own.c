/*
 * A program's own mapping below 64 KiB (vm.mmap_min_addr is 4096 on many machines,
 * and root may map lower): the runtime's shadow range starts at 64 KiB, so the low
 * range's shadow is poisoned as user memory. While the program has a page mapped there,
 * loads, stores and the range-checked functions on it pass (inline checks read zero
 * shadow, the outline ones find the mapping); once it is unmapped, an access is Linux's
 * user-memory-access (get_wild_bug_type: below TASK_SIZE, above the first page), then
 * the fault. Where the kernel refuses the mapping, the program says so and stops.
 */
// EXIT: SIGSEGV
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "e2e.h"

KT_NOINLINE int load(volatile char *p)
{
	return *p;
}

int main(void)
{
	char *low = mmap((void *)0x3000, 8192, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	char buf[16];

	if (low == MAP_FAILED) {
		/* Not this machine's to test: say so where the check below shows it. */
		fprintf(stderr, "low mapping refused: %s\n", strerror(errno));
		return 0;
	}
	low[0] = 'a';
	low[8191] = 'b';
	memset(low + 100, 'x', 15);
	low[115] = '\0';
	memcpy(buf, low + 100, 16);
	if (strlen(low + 100) != 15 || load(low + 8191) != 'b' || buf[0] != 'x')
		return 2;
	munmap(low, 8192);
	KT_ADDR("low", low);
	// CHECK: BUG: KASAN: user-memory-access in load+0x
	// CHECK-NEXT: Read of size 1 at addr {low+16} by task
	return load(low + 16);
}
