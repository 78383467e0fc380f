/*
 * A program maps over freed heap memory, unmaps it, and then reads it. Outside the
 * heap such a read would be a SIGSEGV; in the heap arena the runtime has mapped fresh
 * memory there again and given the pages back to the heap as free pages, so the read
 * is reported as a use-after-free of freed pages (Linux's wording for page-allocator
 * memory nobody holds) and the program goes on. (Nothing is allocated between the
 * munmap and the read: the pages are the heap's again, and a new block may take them.)
 */
// ENV: KASAN_OPTIONS=kasan.quarantine_size=0
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <kasan.h>

#include "e2e.h"

KT_NOINLINE char peek(volatile char *p)
{
	return *p;
}

int main(void)
{
	void *p;
	if (posix_memalign(&p, 4096, 1 << 20))
		return 1;
	KT_ADDR("q", (char *)p + 100); /* before: stdio's buffer must not take the pages */
	free(p);
	char *q = mmap(p, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (q != p)
		return 2;
	q[100] = 1;
	if (munmap(q, 4096))
		return 3;
	// CHECK: BUG: KASAN: use-after-free in peek+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {q} by task {comm}/{pid}{$}
	// CHECK: Memory state around the buggy address:
	// CHECK: {^}>{row:q}: ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff{$}
	peek(q + 100);
	KT_MARK("still running");
	// CHECK: still running
	return 0;
}
