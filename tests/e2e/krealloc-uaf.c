/*
 * krealloc moving an object (100 -> 2000 bytes) frees the old one: reading through the
 * stale pointer is a slab-use-after-free, freed by krealloc's caller.
 */
#include <string.h>

#include <kasan.h>

#include "e2e.h"

KT_NOINLINE char *grow(char *p, size_t n)
{
	char *q = krealloc(p, n, GFP_KERNEL);

	kt_barrier();
	return q;
}

KT_NOINLINE char read_byte(const char *p, size_t i)
{
	return ((const volatile char *)p)[i];
}

int main(void)
{
	char *p = kmalloc(opaque_size(100), GFP_KERNEL);

	memset(p, 'x', 100);
	KT_ADDR("p", p);
	char *q = grow(p, opaque_size(2000));

	KT_ADDR("q", q);
	if (q == p)
		KT_MARK("krealloc did not move the object: the test needs a bigger size");
	// CHECK-NOT: krealloc did not move
	// CHECK: BUG: KASAN: slab-use-after-free in read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+5} by task {comm}/{pid}{$}
	// CHECK: {^}Allocated by task {pid}:{$}
	// CHECK-NEXT: {^} kmalloc+0x
	// CHECK-NEXT: {^} main+0x
	// CHECK: {^}Freed by task {pid}:{$}
	// CHECK-NEXT: {^} krealloc+0x
	// CHECK-NEXT: {^} grow+0x
	// CHECK: The buggy address belongs to the object at {p}
	// CHECK-NEXT:  which belongs to the cache kmalloc-128 of size 128
	// CHECK-NEXT: The buggy address is located 5 bytes inside of
	// CHECK-NEXT:  freed 128-byte region [{p}, {p+128})
	char c = read_byte(opaque_ptr(p), opaque_size(5));
	kt_barrier();
	kfree(q);
	(void)c;
	return 0;
}
