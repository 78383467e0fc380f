/*
 * SLAB_TYPESAFE_BY_RCU with kasan.slub_rcu_debug=on (the default; Linux's
 * CONFIG_SLUB_RCU_DEBUG, KUnit kmem_cache_rcu_uaf): a freed object stays readable
 * until a grace period has passed; after rcu_barrier a read is a
 * slab-use-after-free. With kasan.slub_rcu_debug=off such an object is reused at
 * once (rcu-typesafe-reuse.c).
 */
#include <kasan.h>

#include "e2e.h"

KT_NOINLINE int read_int(const int *p)
{
	return *(const volatile int *)p;
}

int main(void)
{
	struct kmem_cache *c = kmem_cache_create("tsb_uaf", 200, 0, SLAB_TYPESAFE_BY_RCU, NULL);
	int *p = kmem_cache_alloc(c, GFP_KERNEL);

	KT_ADDR("p", p);
	*p = 1;
	rcu_read_lock();
	kmem_cache_free(c, p);
	(void)read_int(p);
	rcu_read_unlock();
	rcu_barrier();
	// CHECK: BUG: KASAN: slab-use-after-free in read_int+0x
	// CHECK-NEXT: {^}Read of size 4 at addr {p} by task {comm}/{pid}{$}
	// CHECK: {^} which belongs to the cache tsb_uaf of size 200{$}
	(void)read_int(opaque_ptr(p));
	kt_barrier();
	kmem_cache_destroy(c);
	return 0;
}
