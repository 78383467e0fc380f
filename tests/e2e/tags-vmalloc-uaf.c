/*
 * sw-tags: a read of a vfree'd area before the lazy purge. Its granules carry
 * KASAN_TAG_INVALID (0xE here), so the stale pointer's tag mismatches: Linux's common
 * type, invalid-access. A freed area has no vm_struct and no pages any more, so
 * Linux (6.17+, vmalloc_dump_obj finding nothing) describes it as "a vmalloc virtual
 * mapping" and dumps no physical page. A read of the live area first is the clean
 * twin.
 */
// ENV: KASAN_OPTIONS=kasan.quarantine_size=0
#include <stdio.h>

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

	p[10] = 'v';
	KT_ADDR("p", p);
	KT_ADDR("u", kasan_reset_tag(p));
	printf("KASAN-TEST ptag=[%02x]\n", kasan_get_tag(p));
	fflush(stdout);
	if (read_at(opaque_ptr(p), opaque_size(10)) != 'v')
		return 3;
	put(p);
	// CHECK: BUG: KASAN: invalid-access in read_at+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+10} by task {comm}/{pid}{$}
	// CHECK-NEXT: {^}Pointer tag: {ptag}, memory tag: [0e]{$}
	// CHECK-NOT: vmalloc region
	// CHECK: {^}The buggy address belongs to a vmalloc virtual mapping{$}
	// CHECK-NEXT: {^}Memory state around the buggy address:{$}
	// CHECK: {^}>{row:u+10}: 
	read_at(opaque_ptr(p), opaque_size(10));
	kt_barrier();
	return 0;
}
