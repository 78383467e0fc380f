/*
 * sw-tags twin of vmalloc-double-free-purged.c: vfree of an area already freed and
 * purged. Its tag shadow page is unmapped again, and the free path's tag check must
 * not read it (the runtime would die of SIGSEGV in its own free check): the second
 * vfree is a double-free and the program goes on. The first vfree and the purge are
 * the clean twin: nothing is reported for them.
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
