/*
 * memmove one byte up inside a 10-byte object, moving 10 bytes: the source is in
 * bounds, the destination's last byte is not ("Write of size 10" at p + 1, "located 1
 * bytes inside of", caret under p + 10).
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

KT_NOINLINE void shift(char *p, size_t n)
{
	memmove(p + 1, p, n);
	kt_barrier();
}

int main(void)
{
	char *p = alloc_filled(opaque_size(10), 'x');

	KT_ADDR("p", p);
	// CHECK: BUG: KASAN: slab-out-of-bounds in shift+0x
	// CHECK-NEXT: {^}Write of size 10 at addr {p+1} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} shift+0x
	// CHECK: {^}Allocated by task {pid}:{$}
	// CHECK-NEXT: {^} malloc+0x
	// CHECK-NEXT: {^} alloc_filled+0x
	// CHECK: The buggy address belongs to the object at {p}
	// CHECK-NEXT:  which belongs to the cache kmalloc-16 of size 16
	// CHECK-NEXT: The buggy address is located 1 bytes inside of
	// CHECK-NEXT:  allocated 10-byte region [{p}, {p+10})
	// CHECK: {^}>{row:p+10}: 
	// CHECK-NEXT: {caret:p+10}
	shift(p, opaque_size(10));
	free(p);
	return 0;
}
