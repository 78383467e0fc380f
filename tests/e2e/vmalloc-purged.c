/*
 * A freed vmalloc area after the lazy purge: its shadow page is unmapped again
 * (nothing else uses it), so the check of a stale pointer faults, as a kernel with
 * CONFIG_KASAN_VMALLOC takes a page fault on purged vmalloc space. The runtime says
 * so in one line with the call trace, and the program dies of SIGSEGV. The area is
 * big (2 MiB), so the shadow pages of its middle are its alone; vm_unmap_aliases()
 * runs the purge, as in Linux.
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

	p[1 << 20] = 1;
	KT_ADDR("p", p);
	vfree(p);
	vm_unmap_aliases();
	// CHECK: {^}kasan: SEGV on unpopulated vmalloc shadow {*} (vmalloc address {*}: freed and purged, or never allocated) (pc {*}
	// CHECK-SAME: by task {comm}/{pid}{$}
	// CHECK-NEXT: Call Trace:
	read_at(opaque_ptr(p), opaque_size(1 << 20));
	kt_barrier();
	return 0;
}
