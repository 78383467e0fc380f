/*
 * strlen of an unterminated string: 8 characters filling an 8-byte object. The scan
 * runs into the redzone (zero bytes), so strlen reads 9 bytes: "Read of size 9".
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

KT_NOINLINE size_t length(const char *s)
{
	size_t n = strlen(s);

	kt_barrier();
	return n;
}

int main(void)
{
	char *p = alloc_filled(opaque_size(8), 'x');

	KT_ADDR("p", p);
	// CHECK: BUG: KASAN: slab-out-of-bounds in length+0x
	// CHECK-NEXT: {^}Read of size 9 at addr {p} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} length+0x
	// CHECK-NEXT: {^} main+0x
	// CHECK: {^}Allocated by task {pid}:{$}
	// CHECK-NEXT: {^} malloc+0x
	// CHECK-NEXT: {^} alloc_filled+0x
	// CHECK: The buggy address belongs to the object at {p}
	// CHECK-NEXT:  which belongs to the cache kmalloc-8 of size 8
	// CHECK-NEXT: The buggy address is located 0 bytes inside of
	// CHECK-NEXT:  allocated 8-byte region [{p}, {p+8})
	// CHECK: {^}>{row:p+8}: 
	// CHECK-NEXT: {caret:p+8}
	size_t n = length(p);
	free(p);
	return n == 12345;
}
