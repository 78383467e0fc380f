/*
 * memset past the end: 11 bytes into a 10-byte object (a kmalloc-16 object).
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

KT_NOINLINE void clear(char *p, size_t n)
{
	memset(p, 0, n);
	kt_barrier();
}

int main(void)
{
	char *p = alloc_filled(opaque_size(10), 'x');

	KT_ADDR("p", p);
	// CHECK: BUG: KASAN: slab-out-of-bounds in clear+0x
	// CHECK-NEXT: {^}Write of size 11 at addr {p} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} clear+0x
	// CHECK-NEXT: {^} main+0x
	// CHECK: {^}Allocated by task {pid}:{$}
	// CHECK-NEXT: {^} malloc+0x
	// CHECK-NEXT: {^} alloc_filled+0x
	// CHECK: The buggy address belongs to the object at {p}
	// CHECK-NEXT:  which belongs to the cache kmalloc-16 of size 16
	// CHECK-NEXT: The buggy address is located 0 bytes inside of
	// CHECK-NEXT:  allocated 10-byte region [{p}, {p+10})
	// CHECK: {^}>{row:p+10}: 
	// CHECK-NEXT: {caret:p+10}
	clear(p, opaque_size(11));
	free(p);
	return 0;
}
