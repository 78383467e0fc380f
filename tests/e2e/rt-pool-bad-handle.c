/*
 * mempool_* calls with a pool that is not one, treated as rt-cache-bad-handle treats
 * caches (Linux's mempool code reads the pool first):
 *  - a NULL pool (alloc, alloc_preallocated, free) is a read of the NULL page:
 *    null-ptr-deref, named at the caller; the call fails. mempool_destroy(NULL) is
 *    allowed and does nothing, as in Linux; so is mempool_free(NULL, pool).
 *  - a destroyed pool is a use-after-free of the freed pool object: alloc and a second
 *    destroy report slab-use-after-free, with the destroy as the free stack.
 *  - a readable pointer that is no pool (a malloc'd block, a global) gets one error
 *    line naming the caller, and the call fails.
 */
#include <kasan.h>
#include <stdio.h>
#include <stdlib.h>

#include "e2e.h"

// ENV: KASAN_OPTIONS=kasan_multi_shot

static char not_a_pool[64];

KT_NOINLINE void *alloc_from(mempool_t *pool)
{
	void *p = mempool_alloc(pool, GFP_KERNEL);

	kt_barrier();
	return p;
}

KT_NOINLINE void give_back(void *e, mempool_t *pool)
{
	mempool_free(e, pool);
	kt_barrier();
}

KT_NOINLINE void destroy(mempool_t *pool)
{
	mempool_destroy(pool);
	kt_barrier();
}

int main(void)
{
	mempool_t *pool = mempool_create_kmalloc_pool(2, 32);
	void *e = mempool_alloc(pool, GFP_KERNEL);

	// CHECK: BUG: KASAN: null-ptr-deref in alloc_from+0x
	// CHECK-NEXT: {^}Read of size 1 at addr 0000000000000000 by task {comm}/{pid}{$}
	void *p = alloc_from(opaque_ptr(NULL));
	// CHECK: BUG: KASAN: null-ptr-deref in main+0x
	// CHECK-NEXT: {^}Read of size 1 at addr 0000000000000000 by task {comm}/{pid}{$}
	void *q = mempool_alloc_preallocated(opaque_ptr(NULL));
	kt_barrier();
	// CHECK: BUG: KASAN: null-ptr-deref in give_back+0x
	// CHECK-NEXT: {^}Read of size 1 at addr 0000000000000000 by task {comm}/{pid}{$}
	give_back(e, opaque_ptr(NULL));
	fprintf(stderr, "null: %p %p\n", p, q);
	// CHECK: {^}null: (nil) (nil){$}
	destroy(opaque_ptr(NULL));
	give_back(opaque_ptr(NULL), pool);
	KT_MARK("null allowed");
	// CHECK-NEXT: {^}null allowed{$}

	/* e was not taken back above: the pool still works and takes it now. */
	give_back(e, pool);
	destroy(pool);
	KT_ADDR("pool", pool);
	// CHECK: BUG: KASAN: slab-use-after-free in alloc_from+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {pool} by task {comm}/{pid}{$}
	// CHECK: {^}Freed by task {pid}:{$}
	// CHECK-NEXT: {^} mempool_destroy+0x
	// CHECK-NEXT: {^} destroy+0x
	// CHECK: The buggy address belongs to the object at {pool}
	p = alloc_from(pool);
	// CHECK: BUG: KASAN: slab-use-after-free in destroy+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {pool} by task {comm}/{pid}{$}
	destroy(pool);
	fprintf(stderr, "stale: %p\n", p);
	// CHECK: {^}stale: (nil){$}

	void *m = malloc(opaque_size(64));
	void *k = kmalloc(32, GFP_KERNEL);
	KT_ADDR("m", m);
	KT_ADDR("g", not_a_pool);
	// CHECK: {^}kasan: mempool_destroy: {hex:m} is not a pool made by mempool_create when called from destroy+0x
	destroy(m);
	// CHECK-NEXT: {^}kasan: mempool_alloc: {hex:g} is not a pool made by mempool_create when called from alloc_from+0x
	p = alloc_from((mempool_t *)not_a_pool);
	// CHECK-NEXT: {^}kasan: mempool_free: {hex:m} is not a pool made by mempool_create when called from give_back+0x
	give_back(k, m);
	fprintf(stderr, "foreign: %p\n", p);
	// CHECK-NEXT: {^}foreign: (nil){$}
	/* Neither was touched: both free normally. */
	kfree(k);
	free(m);
	KT_MARK("done");
	// CHECK-NEXT: {^}done{$}
	return 0;
}
