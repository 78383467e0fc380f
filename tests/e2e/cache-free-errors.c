/*
 * kmem_cache frees gone wrong, one report each (multi-shot): a double free, an
 * interior pointer, an object of another cache, then a destroy with a live object
 * (Linux's message, the cache kept) and a double destroy (a use-after-free of the
 * cache, as Linux's kasan_check_byte reports it).
 */
// ENV: KASAN_OPTIONS=kasan_multi_shot
#include <kasan.h>

#include "e2e.h"

KT_NOINLINE void put(struct kmem_cache *c, void *p)
{
	kmem_cache_free(c, p);
	kt_barrier();
}

KT_NOINLINE void destroy(struct kmem_cache *c)
{
	kmem_cache_destroy(c);
	kt_barrier();
}

int main(void)
{
	struct kmem_cache *a = kmem_cache_create("cache_a", 64, 0, SLAB_HWCACHE_ALIGN, NULL);
	struct kmem_cache *b = kmem_cache_create("cache_b", 64, 0, 0, NULL);
	char *p = kmem_cache_alloc(a, GFP_KERNEL);
	char *q = kmem_cache_alloc(a, GFP_KERNEL);

	KT_ADDR("p", p);
	KT_ADDR("q", q);
	KT_ADDR("b", b);
	put(a, p);
	// CHECK: BUG: KASAN: double-free in put+0x
	// CHECK-NEXT: {^}Free of addr {p} by task {comm}/{pid}{$}
	// CHECK: which belongs to the cache cache_a of size 64
	put(a, opaque_ptr(p));
	// CHECK: BUG: KASAN: invalid-free in put+0x
	// CHECK-NEXT: {^}Free of addr {q+1} by task {comm}/{pid}{$}
	put(a, opaque_ptr(q + 1));
	// CHECK: BUG: KASAN: invalid-free in put+0x
	// CHECK-NEXT: {^}Free of addr {q} by task {comm}/{pid}{$}
	put(b, opaque_ptr(q));
	// CHECK: {^}kmem_cache_destroy cache_a: Slab cache still has objects (1 allocated) when called from destroy+0x
	destroy(a);
	put(a, q);
	destroy(a);
	destroy(b);
	// CHECK: BUG: KASAN: slab-use-after-free in destroy+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {b} by task {comm}/{pid}{$}
	// CHECK: which belongs to the cache kmalloc-16 of size 16
	destroy(opaque_ptr(b));
	KT_MARK("still running");
	// CHECK: still running
	return 0;
}
