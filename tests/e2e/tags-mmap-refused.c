/*
 * sw-tags: the tagged heap is one shared memory file seen through 16 aliases, so a
 * program's MAP_FIXED over any part of it (here a freed block, at its tagged address)
 * is refused with one kasan: line and ENOMEM, and the heap goes on working; mappings
 * elsewhere work as always. No report.
 */
// ENV: KASAN_OPTIONS=kasan.quarantine_size=0
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
	KT_ADDR("p", p);
	free(p);
	// CHECK: kasan: mmap({hex:p}, 0x1000, MAP_FIXED) would replace the tagged heap: refused (ENOMEM)
	errno = 0;
	if (mmap(p, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED || errno != ENOMEM)
		return 2;
	char *q = malloc(1 << 20);
	memset(q, 1, 1 << 20);
	free(q);
	char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return 3;
	m[8191] = 1;
	if (munmap(m, 8192))
		return 4;
	KT_MARK("done");
	// CHECK-NEXT: done
	return 0;
}
