/*
 * kmem_cache: an out-of-bounds read just past a 200-byte object of a program's own
 * cache names the cache and its object size (Linux's kmem_cache_oob).
 */
#include <kasan.h>

#include "e2e.h"

KT_NOINLINE char read_at(const char *p, size_t off)
{
	return *(const volatile char *)(p + off);
}

int main(void)
{
	struct kmem_cache *c = kmem_cache_create("test_cache", 200, 0, 0, NULL);
	char *p = kmem_cache_alloc(c, GFP_KERNEL);

	KT_ADDR("p", p);
	// CHECK: BUG: KASAN: slab-out-of-bounds in read_at+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+200} by task {comm}/{pid}{$}
	// CHECK: {^}Allocated by task {pid}:{$}
	// CHECK-NEXT: {^} kmem_cache_alloc+0x
	// CHECK-NEXT: {^} main+0x
	// CHECK: The buggy address belongs to the object at {p}
	// CHECK-NEXT:  which belongs to the cache test_cache of size 200
	// CHECK-NEXT: The buggy address is located 0 bytes to the right of
	// CHECK-NEXT:  allocated 200-byte region [{p}, {p+200})
	read_at(opaque_ptr(p), opaque_size(200));
	kt_barrier();
	kmem_cache_free(c, p);
	kmem_cache_destroy(c);
	return 0;
}
