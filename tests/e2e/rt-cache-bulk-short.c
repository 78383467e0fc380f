/*
 * kmem_cache_alloc_bulk into an array too short for the count: the array is checked
 * as a memset of n * sizeof(void *) bytes would be (Linux writes the n pointers
 * into it), so a 4-pointer array asked for 8 objects is a slab-out-of-bounds write
 * of 64 bytes named at the caller; the call then fails (returns 0) without writing
 * or allocating anything. kmem_cache_free_bulk of the same short array is a read
 * of 64 bytes. Clean twin: rt-cache-bulk-clean.c.
 */
#include <kasan.h>
#include <stdio.h>

#include "e2e.h"

// ENV: KASAN_OPTIONS=kasan_multi_shot

KT_NOINLINE int fill(struct kmem_cache *c, size_t n, void **arr)
{
	int got = kmem_cache_alloc_bulk(c, GFP_KERNEL, n, arr);

	kt_barrier();
	return got;
}

KT_NOINLINE void drain(struct kmem_cache *c, size_t n, void **arr)
{
	kmem_cache_free_bulk(c, n, arr);
	kt_barrier();
}

int main(void)
{
	struct kmem_cache *c = kmem_cache_create("bulk", 48, 0, 0, NULL);
	void **arr = kmalloc(opaque_size(4 * sizeof(void *)), GFP_KERNEL | __GFP_ZERO);

	KT_ADDR("arr", arr);
	// CHECK: BUG: KASAN: slab-out-of-bounds in fill+0x
	// CHECK-NEXT: {^}Write of size 64 at addr {arr} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} fill+0x
	// CHECK-NEXT: {^} main+0x
	// CHECK: The buggy address belongs to the object at {arr}
	// CHECK-NEXT:  which belongs to the cache kmalloc-32 of size 32
	// CHECK-NEXT: The buggy address is located 0 bytes inside of
	// CHECK-NEXT:  allocated 32-byte region [{arr}, {arr+32})
	int got = fill(c, opaque_size(8), arr);
	fprintf(stderr, "got=%d first=%p\n", got, arr[0]);
	// CHECK: {^}got=0 first=(nil){$}
	// CHECK: BUG: KASAN: slab-out-of-bounds in drain+0x
	// CHECK-NEXT: {^}Read of size 64 at addr {arr} by task {comm}/{pid}{$}
	drain(c, opaque_size(8), arr);
	/* Nothing was allocated: the cache is empty and goes quietly. */
	kmem_cache_destroy(c);
	kfree(arr);
	KT_MARK("done");
	// CHECK: {^}done{$}
	// CHECK-NOT: Slab cache still has objects
	return 0;
}
