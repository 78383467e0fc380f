/*
 * A program's mapping calls that would replace memory the runtime still uses are
 * refused, each with one kasan: line, and change nothing: MAP_FIXED over a live heap
 * block (ENOMEM) and over the shadow (ENOMEM), munmap of a live block (EINVAL),
 * mremap of a heap block (EINVAL). The block keeps its bytes and is freed normally;
 * no report is printed.
 */
// REPORTS: 0
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <kasan.h>

#include "e2e.h"

int main(void)
{
	void *p;
	if (posix_memalign(&p, 4096, 1 << 20))
		return 1;
	memset(p, 7, 1 << 20);
	KT_ADDR("p", p);
	// CHECK: kasan: mmap({hex:p}, 0x2000, MAP_FIXED) would replace heap memory in use (a live or quarantined block): refused (ENOMEM)
	errno = 0;
	if (mmap(p, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED || errno != ENOMEM)
		return 2;
	// CHECK-NEXT: kasan: munmap({hex:p}, 0x1000) would unmap heap memory in use (a live or quarantined block): refused (EINVAL)
	errno = 0;
	if (munmap(p, 4096) != -1 || errno != EINVAL)
		return 3;
	// CHECK-NEXT: kasan: mremap({hex:p}, 0x100000, 0x200000) would move or replace heap memory: refused (EINVAL)
	errno = 0;
	if (mremap(p, 1 << 20, 2 << 20, MREMAP_MAYMOVE) != MAP_FAILED || errno != EINVAL)
		return 4;
	// CHECK-NEXT: kasan: mmap(0x100000000, 0x1000, MAP_FIXED) would replace the runtime's shadow memory: refused (ENOMEM)
	errno = 0;
	if (mmap((void *)0x100000000UL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED || errno != ENOMEM)
		return 5;
	for (int i = 0; i < 1 << 20; i++)
		if (((unsigned char *)p)[i] != 7)
			return 6;
	free(p);
	KT_MARK("done");
	// CHECK-NEXT: done
	return 0;
}
