/*
 * The clean twin of rt-cache-bulk-short.c: kmem_cache_alloc_bulk and
 * kmem_cache_free_bulk with arrays of exactly the right size, and with n = 0.
 */
#include <kasan.h>
#include <stdio.h>
#include <string.h>

#include "e2e.h"

int main(void)
{
	struct kmem_cache *c = kmem_cache_create("bulk", 48, 0, 0, NULL);
	void **arr = kmalloc(opaque_size(8 * sizeof(void *)), GFP_KERNEL);

	if (kmem_cache_alloc_bulk(c, GFP_KERNEL, 8, arr) != 8)
		return 1;
	for (int i = 0; i < 8; i++)
		memset(arr[i], i, 48);
	kmem_cache_free_bulk(c, 8, arr);
	if (kmem_cache_alloc_bulk(c, GFP_KERNEL, 0, arr) != 0)
		return 1;
	kmem_cache_destroy(c);
	kfree(arr);
	return 0;
}
