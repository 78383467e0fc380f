/*
 * Clean twin of the kmem_cache bugs: create caches with every flag and a
 * constructor, allocate in bulk and one by one, use every byte, free, destroy.
 * TYPESAFE_BY_RCU objects stay valid after free until a grace period has passed
 * (kasan.slub_rcu_debug=on, the default, as Linux's CONFIG_SLUB_RCU_DEBUG); then
 * they are freed as any other (rcu-typesafe-reuse.c has the reuse at once of =off).
 */
#include <string.h>

#include <kasan.h>

#include "e2e.h"

static int constructed;

static void ctor(void *p)
{
	memset(p, 0x5a, 100);
	constructed++;
}

int main(void)
{
	struct kmem_cache *c = kmem_cache_create("clean_ctor", 100, 8, SLAB_ACCOUNT, ctor);
	struct kmem_cache *r = kmem_cache_create("clean_rcu", 48, 0, SLAB_TYPESAFE_BY_RCU, NULL);
	void *objs[40];

	if (!c || !r || kmem_cache_alloc_bulk(c, GFP_KERNEL, 40, objs) != 40)
		return 1;
	for (int i = 0; i < 40; i++) {
		unsigned char *o = objs[i];
		if (o[0] != 0x5a || o[99] != 0x5a)
			return 2;
		memset(o, i, 100);
	}
	kmem_cache_free_bulk(c, 40, objs);
	for (int i = 0; i < 1000; i++) {
		char *o = kmem_cache_zalloc(c, GFP_KERNEL);
		o[0] = o[99] = 1;
		kmem_cache_free(c, o);
	}
	char *x = kmem_cache_alloc(r, GFP_KERNEL);
	memset(x, 1, 48);
	/* Still readable inside a read-side critical section that spans the free: the
	 * grace period cannot end before rcu_read_unlock (outside one, the deferred free
	 * may come first, as in Linux). */
	rcu_read_lock();
	kmem_cache_free(r, x);
	if (x[47] != 1) /* type-safe by RCU */
		return 3;
	rcu_read_unlock();
	rcu_barrier(); /* the deferred free has now happened */
	x = kmem_cache_alloc(r, GFP_KERNEL);
	if (!x)
		return 4;
	memset(x, 2, 48);
	kmem_cache_free(r, x);
	kmem_cache_destroy(c);
	kmem_cache_destroy(r);
	return constructed > 0 ? 0 : 5;
}
