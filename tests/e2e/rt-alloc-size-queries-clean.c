/*
 * The clean twin of rt-alloc-size-queries.c: ksize and malloc_usable_size of live
 * objects (small, large, aligned, cache objects) answer with no report or line.
 */
#include <kasan.h>
#include <malloc.h>
#include <stdlib.h>

#include "e2e.h"

int main(void)
{
	char *k = kmalloc(opaque_size(100), GFP_KERNEL);
	char *m = malloc(opaque_size(50));
	char *big = malloc(opaque_size(100000));
	void *al = aligned_alloc(256, 300);
	struct kmem_cache *c = kmem_cache_create("sizes", 72, 0, 0, NULL);
	void *o = kmem_cache_alloc(c, GFP_KERNEL);

	if (ksize(k) != 128 || malloc_usable_size(m) != 50 || malloc_usable_size(big) != 100000 ||
	    malloc_usable_size(al) != 300 || ksize(o) != 72 || ksize(NULL) != 0 ||
	    malloc_usable_size(NULL) != 0)
		return 1;
	kmem_cache_free(c, o);
	kmem_cache_destroy(c);
	free(al);
	free(big);
	free(m);
	kfree(k);
	return 0;
}
