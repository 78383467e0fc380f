/*
 * Twin of rpt-slab-freetrack: without a quarantine (kasan.quarantine_size=0) a
 * freed object leaves at once, and as Linux's qlink_free (mm/kasan/quarantine.c)
 * writes KASAN_SLAB_FREE over KASAN_SLAB_FREETRACK when an object leaves, its first
 * shadow byte is 0xfb like the rest.
 */
// ENV: KASAN_OPTIONS=kasan.quarantine_size=0
#include <stdlib.h>

#include "e2e.h"

KT_NOINLINE char read_byte(const char *p, size_t i)
{
	return ((const volatile char *)p)[i];
}

int main(void)
{
	void *p = NULL;

	if (posix_memalign(&p, 128, opaque_size(128)))
		return 1;
	KT_ADDR("p", p);
	free(p);
	// CHECK: BUG: KASAN: slab-use-after-free in read_byte+0x
	// CHECK: {^}Memory state around the buggy address:{$}
	// CHECK-NEXT: {^} {row:p-256}: 
	// CHECK-NEXT: {^} {row:p-128}: 
	// CHECK-NEXT: {^}>{row:p}: fb fb fb fb fb fb fb fb fb fb fb fb fb fb fb fb{$}
	// CHECK-NEXT: {caret:p}
	read_byte(opaque_ptr(p), opaque_size(0));
	kt_barrier();
	return 0;
}
