/*
 * ksize reports the size of the whole slot (128 for a 100-byte kmalloc), but since
 * Linux 6.1 it no longer unpoisons the slack: reading byte 127 is still out of bounds
 * (KUnit's ksize_unpoisons_memory expects exactly that).
 */
#include <string.h>

#include <kasan.h>

#include "e2e.h"

KT_NOINLINE char read_byte(const char *p, size_t i)
{
	return ((const volatile char *)p)[i];
}

int main(void)
{
	char *p = kmalloc(opaque_size(100), GFP_KERNEL);

	KT_ADDR("p", p);
	fprintf(stderr, "ksize=%zu\n", ksize(p));
	// CHECK: {^}ksize=128{$}
	// CHECK: BUG: KASAN: slab-out-of-bounds in read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+127} by task {comm}/{pid}{$}
	// CHECK: The buggy address belongs to the object at {p}
	// CHECK-NEXT:  which belongs to the cache kmalloc-128 of size 128
	// CHECK-NEXT: The buggy address is located 27 bytes to the right of
	// CHECK-NEXT:  allocated 100-byte region [{p}, {p+100})
	char c = read_byte(p, opaque_size(127));
	kt_barrier();
	kfree(p);
	(void)c;
	return 0;
}
