/*
 * slab-out-of-bounds, read: the int one past the end of a 10-int (40-byte) array,
 * which lives in kmalloc-64.
 */
#include <stdlib.h>

#include "e2e.h"

KT_NOINLINE int *alloc_ints(size_t n)
{
	int *a = malloc(n * sizeof(int));

	for (size_t i = 0; i < n; i++)
		a[i] = (int)i;
	return a;
}

KT_NOINLINE int read_int(const int *a, size_t i)
{
	return ((const volatile int *)a)[i];
}

int main(void)
{
	int *a = alloc_ints(opaque_size(10));

	KT_ADDR("a", a);
	// CHECK: ==================================================================
	// CHECK-NEXT: BUG: KASAN: slab-out-of-bounds in read_int+0x
	// CHECK-NEXT: {^}Read of size 4 at addr {a+40} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} read_int+0x{*}/0x{*} {*}slab-oob-read.c:
	// CHECK-NEXT: {^} main+0x
	// CHECK: Allocated by task {pid}:
	// CHECK-NEXT: {^} malloc+0x
	// CHECK-NEXT: {^} alloc_ints+0x{*} {*}slab-oob-read.c:
	// CHECK-NEXT: {^} main+0x
	// CHECK-NOT: Freed by task
	// CHECK: The buggy address belongs to the object at {a}
	// CHECK-NEXT:  which belongs to the cache kmalloc-64 of size 64
	// CHECK-NEXT: The buggy address is located 0 bytes to the right of
	// CHECK-NEXT:  allocated 40-byte region [{a}, {a+40})
	// CHECK: Memory state around the buggy address:
	// CHECK: {^}>{row:a+40}: 
	// CHECK-NEXT: {caret:a+40}
	// CHECK: {^}=================================================================={$}
	int x = read_int(a, opaque_size(10));
	kt_barrier();
	KT_MARK("went on after the report");
	// CHECK-NEXT: went on after the report
	free(a);
	return x == 12345;
}
