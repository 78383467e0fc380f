/*
 * memset of a freed object: slab-use-after-free, a write.
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

KT_NOINLINE void release(char *p)
{
	free(p);
	kt_barrier();
}

int main(void)
{
	char *p = alloc_filled(opaque_size(24), 'x');

	KT_ADDR("p", p);
	release(p);
	// CHECK: BUG: KASAN: slab-use-after-free in clear+0x
	// CHECK-NEXT: {^}Write of size 4 at addr {p+8} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} clear+0x
	// CHECK: {^}Freed by task {pid}:{$}
	// CHECK-NEXT: {^} free+0x
	// CHECK-NEXT: {^} release+0x
	// CHECK: The buggy address belongs to the object at {p}
	// CHECK-NEXT:  which belongs to the cache kmalloc-32 of size 32
	// CHECK-NEXT: The buggy address is located 8 bytes inside of
	// CHECK-NEXT:  freed 32-byte region [{p}, {p+32})
	// CHECK: {^}>{row:p+8}: 
	// CHECK-NEXT: {caret:p+8}
	clear(opaque_ptr(p + 8), opaque_size(4));
	return 0;
}
