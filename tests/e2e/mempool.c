/*
 * mempool: an element freed back into the pool's reserve is poisoned there, so a
 * read of it is a use-after-free (Linux's mempool_kmalloc_uaf) and a second free a
 * double-free (mempool_kmalloc_double_free); an interior pointer is an invalid-free.
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
	mempool_t *pool = mempool_create_kmalloc_pool(1, 100);
	/* The one reserved element, and one from the allocator. */
	char *e = mempool_alloc_preallocated(pool);
	char *f = mempool_alloc(pool, GFP_KERNEL);

	KT_ADDR("e", e);
	KT_ADDR("f", f);
	// CHECK: BUG: KASAN: slab-out-of-bounds in read_at+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {f+100} by task
	read_at(opaque_ptr(f), opaque_size(100));
	give_back(e, pool); /* back into the empty reserve, poisoned */
	give_back(f, pool); /* the reserve is full again: f is really freed */
	// CHECK: BUG: KASAN: slab-use-after-free in read_at+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {e} by task
	// CHECK: {^}Freed by task {pid}:{$}
	// CHECK-NEXT: {^} mempool_free+0x
	// CHECK-NEXT: {^} give_back+0x
	read_at(opaque_ptr(e), 0);
	// CHECK: BUG: KASAN: double-free in give_back+0x
	// CHECK-NEXT: {^}Free of addr {e} by task
	give_back(opaque_ptr(e), pool);
	char *g = mempool_alloc(pool, GFP_KERNEL);
	KT_ADDR("g", g);
	// CHECK: BUG: KASAN: invalid-free in give_back+0x
	// CHECK-NEXT: {^}Free of addr {g+1} by task
	give_back(opaque_ptr(g + 1), pool);
	give_back(g, pool);
	mempool_destroy(pool);
	KT_MARK("done");
	// CHECK: done
	return 0;
}
