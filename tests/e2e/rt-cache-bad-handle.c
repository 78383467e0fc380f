/*
 * kmem_cache_* calls with a cache that is not one. Each is what Linux's slab code
 * would make of it, as it reads the cache first:
 *  - a NULL cache (alloc, zalloc, free, alloc_bulk) is a read of the NULL page:
 *    null-ptr-deref, named at the caller; the call fails. kmem_cache_destroy(NULL)
 *    is allowed and does nothing, as in Linux.
 *  - a destroyed (stale) cache is a use-after-free of the freed cache handle
 *    (Linux's kmem_cache_destroy does kasan_check_byte(s) too): alloc and a second
 *    destroy report slab-use-after-free, with the destroy as the free stack.
 *  - a readable pointer that is no cache (a kmalloc object, a global) gets one
 *    error line naming the caller, and the call fails.
 */
#include <kasan.h>
#include <stdio.h>

#include "e2e.h"

// ENV: KASAN_OPTIONS=kasan_multi_shot

static char not_a_cache[64];

KT_NOINLINE void *alloc_from(struct kmem_cache *c)
{
	void *p = kmem_cache_alloc(c, GFP_KERNEL);

	kt_barrier();
	return p;
}

KT_NOINLINE void destroy(struct kmem_cache *c)
{
	kmem_cache_destroy(c);
	kt_barrier();
}

int main(void)
{
	struct kmem_cache *c = kmem_cache_create("stale", 64, 0, 0, NULL);
	void *obj = kmem_cache_alloc(c, GFP_KERNEL);

	// CHECK: BUG: KASAN: null-ptr-deref in alloc_from+0x
	// CHECK-NEXT: {^}Read of size 1 at addr 0000000000000000 by task {comm}/{pid}{$}
	void *p = alloc_from(opaque_ptr(NULL));
	// CHECK: BUG: KASAN: null-ptr-deref in main+0x
	void *z = kmem_cache_zalloc(opaque_ptr(NULL), GFP_KERNEL);
	// CHECK: BUG: KASAN: null-ptr-deref in main+0x
	kmem_cache_free(opaque_ptr(NULL), obj);
	kt_barrier();
	fprintf(stderr, "null: %p %p\n", p, z);
	// CHECK: {^}null: (nil) (nil){$}
	kmem_cache_destroy(opaque_ptr(NULL));
	kt_barrier();

	kmem_cache_free(c, obj);
	destroy(c);
	KT_ADDR("c", c);
	// CHECK: BUG: KASAN: slab-use-after-free in alloc_from+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {c} by task {comm}/{pid}{$}
	// CHECK: {^}Freed by task {pid}:{$}
	// CHECK-NEXT: {^} kmem_cache_destroy+0x
	// CHECK-NEXT: {^} destroy+0x
	// CHECK: The buggy address belongs to the object at {c}
	// CHECK-NEXT:  which belongs to the cache kmalloc-16 of size 16
	p = alloc_from(c);
	// CHECK: BUG: KASAN: slab-use-after-free in destroy+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {c} by task {comm}/{pid}{$}
	destroy(c);
	fprintf(stderr, "stale: %p\n", p);
	// CHECK: {^}stale: (nil){$}

	void *k = kmalloc(16, GFP_KERNEL);
	KT_ADDR("k", k);
	KT_ADDR("g", not_a_cache);
	// CHECK: {^}kasan: kmem_cache_alloc: {hex:k} is not a cache made by kmem_cache_create when called from alloc_from+0x
	p = alloc_from(k);
	// CHECK: {^}kasan: kmem_cache_destroy: {hex:g} is not a cache made by kmem_cache_create when called from destroy+0x
	destroy((struct kmem_cache *)not_a_cache);
	fprintf(stderr, "foreign: %p\n", p);
	// CHECK: {^}foreign: (nil){$}
	kfree(k);
	return 0;
}
