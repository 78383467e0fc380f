/*
 * sw-tags: past the end of a large kmalloc (page-backed: one random tag for the block,
 * the tail after the rounded size KASAN_TAG_INVALID). Page-backed memory is never in
 * the stack ring: Linux's common type, invalid-access; the memory is described by
 * its page (with page_owner's allocation stack).
 */
#include <stdio.h>
#include <string.h>

#include <kasan.h>

#include "e2e.h"

KT_NOINLINE char *get_big(size_t n)
{
	char *p = kmalloc(n, GFP_KERNEL);

	memset(p, 'b', n);
	return p;
}

KT_NOINLINE char read_byte(const char *p, size_t i)
{
	return ((const volatile char *)p)[i];
}

int main(void)
{
	char *p = get_big(opaque_size(10000));

	KT_ADDR("p", p);
	KT_ADDR("u", kasan_reset_tag(p));
	printf("KASAN-TEST ptag=[%02x]\n", kasan_get_tag(p));
	fflush(stdout);
	// CHECK: BUG: KASAN: invalid-access in read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+10000} by task {comm}/{pid}{$}
	// CHECK-NEXT: {^}Pointer tag: {ptag}, memory tag: [0e]{$}
	// CHECK-NOT: which belongs to the cache
	// CHECK: {^}The buggy address belongs to the physical page:{$}
	// CHECK: {^}Memory state around the buggy address:{$}
	// CHECK: {^}>{row:u+10000}: 
	// CHECK-NEXT: {caret:u+10000}
	(void)read_byte(opaque_ptr(p), opaque_size(10000));
	kt_barrier();
	kfree(p);
	return 0;
}
