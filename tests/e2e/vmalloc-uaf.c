/*
 * A read of a vfree'd area: Linux poisons freed vmalloc memory as
 * KASAN_VMALLOC_INVALID, so it is reported as vmalloc-out-of-bounds. A freed area has
 * no vm_struct and no pages any more, so Linux (6.17+, vmalloc_dump_obj finding
 * nothing) describes it as "a vmalloc virtual mapping" and dumps no physical page.
 */
#include <kasan.h>

#include "e2e.h"

KT_NOINLINE char read_at(const char *p, size_t off)
{
	return *(const volatile char *)(p + off);
}

KT_NOINLINE void put(void *p)
{
	vfree(p);
	kt_barrier();
}

int main(void)
{
	char *p = vmalloc(opaque_size(3000));

	KT_ADDR("p", p);
	put(p);
	// CHECK: BUG: KASAN: vmalloc-out-of-bounds in read_at+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+10} by task
	// CHECK-NOT: vmalloc region
	// CHECK: {^}The buggy address belongs to a vmalloc virtual mapping{$}
	// CHECK-NEXT: {^}Memory state around the buggy address:{$}
	read_at(opaque_ptr(p), opaque_size(10));
	kt_barrier();
	return 0;
}
