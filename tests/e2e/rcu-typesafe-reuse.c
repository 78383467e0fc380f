/*
 * SLAB_TYPESAFE_BY_RCU with kasan.slub_rcu_debug=off (KUnit kmem_cache_rcu_reuse):
 * a freed object is not poisoned and the next allocation reuses it at once, at the
 * same address; nothing is reported.
 */
// ENV: KASAN_OPTIONS=kasan.slub_rcu_debug=off
#include <kasan.h>

#include "e2e.h"

int main(void)
{
	struct kmem_cache *c = kmem_cache_create("tsb_reuse", 200, 0, SLAB_TYPESAFE_BY_RCU, NULL);
	int *p = kmem_cache_alloc(c, GFP_KERNEL);

	kmem_cache_free(c, p);
	(void)*(volatile int *)p;
	int *q = kmem_cache_alloc(c, GFP_KERNEL);
	int bad = p != q;
	kmem_cache_free(c, q);
	kmem_cache_destroy(c);
	return bad;
}
