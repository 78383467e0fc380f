/*
 * Clean twin of rt-pool-bad-handle: every mempool function on real pools of each
 * kind, the calls Linux allows with NULL (mempool_destroy(NULL),
 * mempool_free(NULL, pool)), pools created and destroyed in a loop, elements used in
 * full: no report, no error line.
 */
#include <kasan.h>
#include <string.h>

#include "e2e.h"

KT_NOINLINE void fill(void *e, size_t n, int c)
{
	memset(e, c, n);
	kt_barrier();
}

int main(void)
{
	struct kmem_cache *cache = kmem_cache_create("pooled", 48, 0, 0, NULL);

	mempool_destroy(opaque_ptr(NULL));
	for (int round = 0; round < 50; round++) {
		mempool_t *km = mempool_create_kmalloc_pool(2, 100);
		mempool_t *sl = mempool_create_slab_pool(3, cache);
		mempool_t *pg = mempool_create_page_pool(1, 1);
		void *a = mempool_alloc_preallocated(km);
		void *b = mempool_alloc(km, GFP_KERNEL);
		void *c = mempool_alloc(sl, GFP_KERNEL);
		void *d = mempool_alloc_preallocated(sl);
		void *e = mempool_alloc(pg, GFP_KERNEL);

		if (!km || !sl || !pg || !a || !b || !c || !d || !e)
			return 1;
		fill(a, 100, round);
		fill(b, 100, round);
		fill(c, 48, round);
		fill(d, 48, round);
		fill(e, 8192, round);
		mempool_free(NULL, km);
		mempool_free(a, km);
		mempool_free(b, km);
		mempool_free(c, sl);
		mempool_free(d, sl);
		mempool_free(e, pg);
		mempool_destroy(km);
		mempool_destroy(sl);
		mempool_destroy(pg);
	}
	kmem_cache_destroy(cache);
	return 0;
}
