/*
 * kzalloc: the object comes zeroed; a read one byte past its 100 bytes is reported.
 */
#include <string.h>

#include <kasan.h>

#include "e2e.h"

KT_NOINLINE char *alloc_zeroed(size_t n)
{
	char *p = kzalloc(n, GFP_KERNEL);

	kt_barrier();
	return p;
}

KT_NOINLINE char read_byte(const char *p, size_t i)
{
	return ((const volatile char *)p)[i];
}

int main(void)
{
	char *p = alloc_zeroed(opaque_size(100));

	for (size_t i = 0; i < 100; i++)
		if (p[i] != 0)
			KT_MARK("kzalloc returned memory that is not zeroed");
	// CHECK-NOT: kzalloc returned memory that is not zeroed
	KT_ADDR("p", p);
	// CHECK: BUG: KASAN: slab-out-of-bounds in read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+100} by task {comm}/{pid}{$}
	// CHECK: {^}Allocated by task {pid}:{$}
	// CHECK-NEXT: {^} kzalloc+0x
	// CHECK-NEXT: {^} alloc_zeroed+0x
	// CHECK: The buggy address belongs to the object at {p}
	// CHECK-NEXT:  which belongs to the cache kmalloc-128 of size 128
	// CHECK-NEXT: The buggy address is located 0 bytes to the right of
	// CHECK-NEXT:  allocated 100-byte region [{p}, {p+100})
	char c = read_byte(p, opaque_size(100));
	kt_barrier();
	kfree(p);
	(void)c;
	return 0;
}
