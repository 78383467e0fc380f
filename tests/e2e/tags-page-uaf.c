/*
 * sw-tags: a read of pages after free_pages. The block had one random tag; freed
 * pages are KASAN_TAG_INVALID. Page memory is never in the stack ring: Linux's common
 * type, invalid-access. The pages went back to the arena at once (tag modes have no
 * quarantine), so no object or page is left to describe: the report ends with the
 * memory state around the untagged address.
 */
#include <stdio.h>
#include <string.h>

#include <kasan.h>

#include "e2e.h"

KT_NOINLINE char read_byte(const char *p, size_t i)
{
	return ((const volatile char *)p)[i];
}

int main(void)
{
	unsigned long a = __get_free_pages(GFP_KERNEL, 1);
	char *p = (char *)a;

	memset(p, 'p', 8192);
	KT_ADDR("p", p);
	KT_ADDR("u", kasan_reset_tag(p));
	printf("KASAN-TEST ptag=[%02x]\n", kasan_get_tag(p));
	fflush(stdout);
	free_pages(a, 1);
	// CHECK: BUG: KASAN: invalid-access in read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+4100} by task {comm}/{pid}{$}
	// CHECK-NEXT: {^}Pointer tag: {ptag}, memory tag: [0e]{$}
	// CHECK-NOT: which belongs to the cache
	// CHECK-NOT: Allocated by task
	// CHECK: {^}Memory state around the buggy address:{$}
	// CHECK: {^}>{row:u+4100}: 
	// CHECK-NEXT: {caret:u+4100}
	(void)read_byte(opaque_ptr(p), opaque_size(4100));
	kt_barrier();
	return 0;
}
