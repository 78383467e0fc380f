/*
 * sw-tags: out of bounds to the left of the first object of a fresh cache. The
 * granule before it is not the object's (the slab's metadata, KASAN_TAG_INVALID);
 * the heap describes the address as just left of that object (as generic mode's
 * reports do), and the ring's newest entry for the pointer is the object's alloc:
 * slab-out-of-bounds, 1 byte to the left of its region.
 */
#include <stdio.h>

#include <kasan.h>

#include "e2e.h"

KT_NOINLINE char read_byte(const char *p, long i)
{
	return ((const volatile char *)p)[i];
}

int main(void)
{
	struct kmem_cache *c = kmem_cache_create("tags_left", 64, 0, 0, NULL);
	char *p = kmem_cache_alloc(c, GFP_KERNEL);

	KT_ADDR("p", p);
	KT_ADDR("u", kasan_reset_tag(p));
	printf("KASAN-TEST ptag=[%02x]\n", kasan_get_tag(p));
	fflush(stdout);
	// CHECK: BUG: KASAN: slab-out-of-bounds in read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p-1} by task {comm}/{pid}{$}
	// CHECK-NEXT: {^}Pointer tag: {ptag}, memory tag: [0e]{$}
	// CHECK: {^}Allocated by task {pid}:{$}
	// CHECK-NEXT: {^} kmem_cache_alloc+0x
	// CHECK-NEXT: {^} main+0x
	// CHECK: {^}The buggy address belongs to the object at {u}{$}
	// CHECK-NEXT: {^} which belongs to the cache tags_left of size 64{$}
	// CHECK-NEXT: {^}The buggy address is located 1 bytes to the left of{$}
	// CHECK-NEXT: {^} 64-byte region [{u}, {u+64}){$}
	// CHECK: {^}Memory state around the buggy address:{$}
	// CHECK: {^}>{row:u-1}: 
	// CHECK-NEXT: {caret:u-1}
	(void)read_byte(opaque_ptr(p), -(long)opaque_size(1));
	kt_barrier();
	kmem_cache_free(c, p);
	kmem_cache_destroy(c);
	return 0;
}
