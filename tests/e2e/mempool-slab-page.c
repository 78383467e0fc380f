/*
 * Slab and page mempools: a reserved element freed back into its pool is poisoned
 * there (slab-use-after-free for a cache element, use-after-free for pages), and
 * freeing it again is a double-free (Linux's mempool_slab_uaf,
 * mempool_page_alloc_uaf, mempool_page_alloc_double_free).
 */
// ENV: KASAN_OPTIONS=kasan_multi_shot
#include <kasan.h>

#include "e2e.h"

KT_NOINLINE char read_at(const char *p, size_t off)
{
	return *(const volatile char *)(p + off);
}

KT_NOINLINE void give_back(void *e, mempool_t *pool)
{
	mempool_free(e, pool);
	kt_barrier();
}

int main(void)
{
	struct kmem_cache *cache = kmem_cache_create("pool_cache", 123, 0, 0, NULL);
	mempool_t *slab_pool = mempool_create_slab_pool(1, cache);
	mempool_t *page_pool = mempool_create_page_pool(1, 2);
	char *s = mempool_alloc_preallocated(slab_pool);
	char *p = mempool_alloc_preallocated(page_pool);

	KT_ADDR("s", s);
	KT_ADDR("p", p);
	// CHECK: BUG: KASAN: slab-out-of-bounds in read_at+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {s+123} by task
	// CHECK: which belongs to the cache pool_cache of size 123
	read_at(opaque_ptr(s), opaque_size(123));
	give_back(s, slab_pool);
	// CHECK: BUG: KASAN: slab-use-after-free in read_at+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {s} by task
	read_at(opaque_ptr(s), 0);
	give_back(p, page_pool);
	// CHECK: BUG: KASAN: use-after-free in read_at+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+100} by task
	read_at(opaque_ptr(p), opaque_size(100));
	// CHECK: BUG: KASAN: double-free in give_back+0x
	// CHECK-NEXT: {^}Free of addr {p} by task
	give_back(opaque_ptr(p), page_pool);
	mempool_destroy(slab_pool);
	mempool_destroy(page_pool);
	kmem_cache_destroy(cache);
	KT_MARK("done");
	// CHECK: done
	return 0;
}
