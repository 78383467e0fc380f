/*
 * sw-tags twin of vmalloc-purged.c: the tag shadow of the vmalloc space is populated
 * per area too. After vfree and the purge (vm_unmap_aliases) the tag shadow page of
 * the middle of a 2 MiB area is unmapped again, so the tag check of a stale pointer
 * faults, as a kernel with CONFIG_KASAN_VMALLOC takes a page fault on purged vmalloc
 * space: one line naming the tag shadow address and the untagged vmalloc address,
 * the call trace, and the program dies of SIGSEGV. The writes before are the clean
 * twin (nothing reported).
 */
// ENV: KASAN_OPTIONS=kasan.quarantine_size=0
// EXIT: SIGSEGV
#include <kasan.h>

#include "e2e.h"

KT_NOINLINE char read_at(const char *p, size_t off)
{
	return *(const volatile char *)(p + off);
}

int main(void)
{
	char *p = vmalloc(opaque_size(2 << 20));

	p[0] = 1;
	p[1 << 20] = 1;
	p[(2 << 20) - 1] = 1;
	KT_ADDR("u", kasan_reset_tag(p));
	vfree(p);
	vm_unmap_aliases();
	// CHECK: {^}kasan: SEGV on unpopulated vmalloc shadow {*} (vmalloc address {u+1048576}: freed and purged, or never allocated) (pc {*}
	// CHECK-SAME: by task {comm}/{pid}{$}
	// CHECK-NEXT: Call Trace:
	// CHECK: read_at+0x
	read_at(opaque_ptr(p), opaque_size(1 << 20));
	kt_barrier();
	return 0;
}
