/*
 * slab-out-of-bounds to the left of an object that has a neighbour before it: the byte
 * before b lies in the redzone after a, so (as in Linux, which describes the nearest
 * object) the report is about a: "N bytes to the right of" a's region, with a's
 * allocation stack. N is b - 1 - (a + 48), printed by the program as "gap".
 */
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

KT_NOINLINE char *alloc_first(size_t n)
{
	char *p = malloc(n);

	memset(p, 'a', n);
	return p;
}

KT_NOINLINE char *alloc_second(size_t n)
{
	char *p = malloc(n);

	memset(p, 'b', n);
	return p;
}

KT_NOINLINE char read_byte(const char *p, long i)
{
	return ((const volatile char *)p)[i];
}

int main(void)
{
	char *a = alloc_first(opaque_size(48));
	char *b = alloc_second(opaque_size(48));

	KT_ADDR("a", a);
	KT_ADDR("b", b);
	if (b < a + 48) {
		KT_MARK("b is not after a: the allocator's layout changed, fix the test");
		return 2;
	}
	KT_NUM("gap", b - 1 - (a + 48));
	// CHECK: BUG: KASAN: slab-out-of-bounds in read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {b-1} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} read_byte+0x
	// CHECK: Allocated by task {pid}:
	// CHECK-NEXT: {^} malloc+0x
	// CHECK-NEXT: {^} alloc_first+0x
	// CHECK: The buggy address belongs to the object at {a}
	// CHECK-NEXT:  which belongs to the cache kmalloc-64 of size 64
	// CHECK-NEXT: The buggy address is located {gap} bytes to the right of
	// CHECK-NEXT:  allocated 48-byte region [{a}, {a+48})
	// CHECK: {^}>{row:b-1}: 
	// CHECK-NEXT: {caret:b-1}
	char c = read_byte(b, -1);
	kt_barrier();
	free(a);
	free(b);
	return c == 'y';
}
