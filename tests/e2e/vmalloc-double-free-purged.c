/*
 * vfree of an area already freed and purged: its shadow page is unmapped again, and
 * the free path must not read it (it did, and the runtime died of SIGSEGV in its own
 * free check). Purged vmalloc space is free memory, so this is the double-free a
 * second vfree before the purge gives too, and the program goes on. The first vfree
 * and the purge are the clean twin: nothing is reported for them.
 */
// ENV: KASAN_OPTIONS=kasan.quarantine_size=0
// REPORTS: 1
#include <kasan.h>

#include "e2e.h"

KT_NOINLINE void put(void *p)
{
	vfree(p);
	kt_barrier();
}

int main(void)
{
	char *p = vmalloc(opaque_size(2 << 20));

	p[1 << 20] = 1;
	KT_ADDR("p", p);
	put(p);
	vm_unmap_aliases();
	// CHECK: BUG: KASAN: double-free in put+0x
	// CHECK-NEXT: {^}Free of addr {p} by task {comm}/{pid}{$}
	put(opaque_ptr(p));
	KT_MARK("still running");
	// CHECK: still running
	return 0;
}
