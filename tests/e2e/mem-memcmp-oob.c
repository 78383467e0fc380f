/*
 * memcmp of 11 bytes where the first buffer has 10: both ranges are checked, the first
 * one first.
 */
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

KT_NOINLINE char *alloc_filled(size_t n, int c)
{
	char *p = malloc(n);

	memset(p, c, n);
	return p;
}

KT_NOINLINE int compare(const char *a, const char *b, size_t n)
{
	int r = memcmp(a, b, n);

	kt_barrier();
	return r;
}

int main(void)
{
	char *a = alloc_filled(opaque_size(10), 'x');
	char *b = alloc_filled(opaque_size(16), 'x');

	KT_ADDR("a", a);
	// CHECK: BUG: KASAN: slab-out-of-bounds in compare+0x
	// CHECK-NEXT: {^}Read of size 11 at addr {a} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} compare+0x
	// CHECK: The buggy address belongs to the object at {a}
	// CHECK-NEXT:  which belongs to the cache kmalloc-16 of size 16
	// CHECK-NEXT: The buggy address is located 0 bytes inside of
	// CHECK-NEXT:  allocated 10-byte region [{a}, {a+10})
	// CHECK: {^}>{row:a+10}: 
	// CHECK-NEXT: {caret:a+10}
	int r = compare(a, b, opaque_size(11));
	free(a);
	free(b);
	return r == 12345;
}
