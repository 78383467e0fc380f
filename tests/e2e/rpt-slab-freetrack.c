/*
 * A freed slab object's first shadow byte is 0xfa while it waits in the quarantine,
 * the rest 0xfb; with the quarantine off (kasan.quarantine_size=0) the object is let
 * go at once and its first byte is 0xfb too.
 *
 * Linux (mm/kasan/generic.c kasan_save_free_info): after poisoning a freed object
 * with KASAN_SLAB_FREE (0xfb) it marks the free meta valid by writing
 * KASAN_SLAB_FREETRACK (0xfa) into the object's first shadow byte; qlink_free
 * (mm/kasan/quarantine.c) writes KASAN_SLAB_FREE back when the object leaves the
 * quarantine. Real dumps: syzkaller pkg/report/testdata/linux/report/737 (6.13-rc5,
 * "KASAN: slab-use-after-free Read in mptcp_pm_del_add_timer"):
 *   >ffff88804c251100: fa fb fb fb fb fb fb fb fb fb fb fb fb fb fb fb
 * The objects are 128-byte aligned so the dump row starts at the object.
 */
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
	// CHECK-NEXT: {^}>{row:p}: fa fb fb fb fb fb fb fb fb fb fb fb fb fb fb fb{$}
	// CHECK-NEXT: {caret:p+16}
	read_byte(opaque_ptr(p), opaque_size(16));
	kt_barrier();
	return 0;
}
