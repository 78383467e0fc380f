/*
 * The bug twin of rt-cache-many.c: with 1500 caches live, an object of cache
 * number 1400 (far past the old limit of 499) is used after free, and the report
 * names that cache, its size and both stacks.
 */
#include <kasan.h>
#include <stdio.h>
#include <stdlib.h>

#include "e2e.h"

#define N 1500

static struct kmem_cache *c[N];

KT_NOINLINE char read_at(const char *p, size_t off)
{
	return *(const volatile char *)(p + off);
}

int main(void)
{
	char name[32];

	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "many_%d", i);
		c[i] = kmem_cache_create(name, 96, 0, 0, NULL);
		if (!c[i])
			return 1;
	}
	char *p = kmem_cache_alloc(c[1400], GFP_KERNEL);

	KT_ADDR("p", p);
	kmem_cache_free(c[1400], p);
	kt_barrier();
	// CHECK: BUG: KASAN: slab-use-after-free in read_at+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+5} by task {comm}/{pid}{$}
	// CHECK: {^}Allocated by task {pid}:{$}
	// CHECK-NEXT: {^} kmem_cache_alloc+0x
	// CHECK-NEXT: {^} main+0x
	// CHECK: {^}Freed by task {pid}:{$}
	// CHECK-NEXT: {^} kmem_cache_free+0x
	// CHECK-NEXT: {^} main+0x
	// CHECK: The buggy address belongs to the object at {p}
	// CHECK-NEXT:  which belongs to the cache many_1400 of size 96
	read_at(opaque_ptr(p), opaque_size(5));
	kt_barrier();
	for (int i = 0; i < N; i++)
		kmem_cache_destroy(c[i]);
	KT_MARK("done");
	// CHECK: {^}done{$}
	return 0;
}
