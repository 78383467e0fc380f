/*
 * slab-out-of-bounds to the left: the byte before the first object of a slab.
 *
 * As in Linux, the bad address is described relative to the nearest object: here the
 * object itself, whose slab begins with a redzone ("1 bytes to the left of"). The first
 * 200-byte allocation of the program is the first object of a fresh kmalloc-256 slab.
 * slab-oob-left-prev.c covers the other case, an object with a neighbour before it.
 */
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

KT_NOINLINE char *alloc_buf(size_t n)
{
	char *p = malloc(n);

	memset(p, 'x', n);
	return p;
}

KT_NOINLINE char read_byte(const char *p, long i)
{
	return ((const volatile char *)p)[i];
}

int main(void)
{
	char *p = alloc_buf(opaque_size(200));

	KT_ADDR("p", p);
	// CHECK: BUG: KASAN: slab-out-of-bounds in read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p-1} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} read_byte+0x{*} {*}slab-oob-left.c:
	// CHECK-NEXT: {^} main+0x
	// CHECK: Allocated by task {pid}:
	// CHECK-NEXT: {^} malloc+0x
	// CHECK-NEXT: {^} alloc_buf+0x
	// CHECK: The buggy address belongs to the object at {p}
	// CHECK-NEXT:  which belongs to the cache kmalloc-256 of size 256
	// CHECK-NEXT: The buggy address is located 1 bytes to the left of
	// CHECK-NEXT:  allocated 200-byte region [{p}, {p+200})
	// CHECK: Memory state around the buggy address:
	// CHECK: {^}>{row:p-1}: 
	// CHECK-NEXT: {caret:p-1}
	char c = read_byte(p, -1);
	kt_barrier();
	free(p);
	return c == 'y';
}
