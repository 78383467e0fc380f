/*
 * krealloc growing a 100-byte object to 200 bytes (kmalloc-256): byte 200 is out of
 * bounds of the new object, and its allocation stack is krealloc's caller.
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
	char *q = grow(p, opaque_size(200));

	KT_ADDR("q", q);
	for (size_t i = 0; i < 100; i++)
		if (q[i] != 'x')
			KT_MARK("krealloc lost the contents");
	// CHECK-NOT: krealloc lost the contents
	// CHECK: BUG: KASAN: slab-out-of-bounds in read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {q+200} by task {comm}/{pid}{$}
	// CHECK: {^}Allocated by task {pid}:{$}
	// CHECK-NEXT: {^} krealloc+0x
	// CHECK-NEXT: {^} grow+0x
	// CHECK: The buggy address belongs to the object at {q}
	// CHECK-NEXT:  which belongs to the cache kmalloc-256 of size 256
	// CHECK-NEXT: The buggy address is located 0 bytes to the right of
	// CHECK-NEXT:  allocated 200-byte region [{q}, {q+200})
	// CHECK: {^}>{row:q+200}: 
	// CHECK-NEXT: {caret:q+200}
	char c = read_byte(q, opaque_size(200));
	kt_barrier();
	kfree(q);
	(void)c;
	return 0;
}
