/*
 * sw-tags: a read in the first granule past a 3000-byte vmalloc area (byte 3008:
 * bytes 3000..3007 share the area's last granule, which carries its tag, as tag modes
 * have no short granules). The area has one random tag and its tail is
 * KASAN_TAG_INVALID. No slab object, no ring: Linux's common type,
 * invalid-access; the area is described by its untagged address (Linux 6.14+'s one
 * vmalloc line), then its physical page.
 */
#include <stdio.h>
#include <string.h>

#include <kasan.h>

#include "e2e.h"

KT_NOINLINE char *make_area(unsigned long n)
{
	char *p = vmalloc(n);

	memset(p, 'v', n);
	return p;
}

KT_NOINLINE char read_byte(const char *p, size_t i)
{
	return ((const volatile char *)p)[i];
}

int main(void)
{
	char *p = make_area(opaque_size(3000));

	KT_ADDR("p", p);
	KT_ADDR("u", kasan_reset_tag(p));
	printf("KASAN-TEST ptag=[%02x]\n", kasan_get_tag(p));
	fflush(stdout);
	// CHECK: BUG: KASAN: invalid-access in read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+3008} by task {comm}/{pid}{$}
	// CHECK-NEXT: {^}Pointer tag: {ptag}, memory tag: [0e]{$}
	// CHECK-NOT: which belongs to the cache
	// CHECK-NOT: Allocated by task
	// CHECK: {^}The buggy address belongs to a 1-page vmalloc region starting at {hex:u} allocated at make_area+0x{*}/0x{*} {*}tags-vmalloc-oob.c:{*}{$}
	// CHECK: {^}Memory state around the buggy address:{$}
	// CHECK: {^}>{row:u+3008}: 
	// CHECK-NEXT: {caret:u+3008}
	char c = read_byte(p, opaque_size(3008));
	kt_barrier();
	vfree(p);
	(void)c;
	return 0;
}
