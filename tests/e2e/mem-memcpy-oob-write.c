/*
 * memcpy writing past its destination: 11 bytes into a 10-byte object.
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

KT_NOINLINE void copy_it(char *dst, const char *src, size_t n)
{
	memcpy(dst, src, n);
	kt_barrier();
}

int main(void)
{
	char *src = alloc_filled(opaque_size(16), 'x');
	char *dst = alloc_filled(opaque_size(10), 0);

	KT_ADDR("dst", dst);
	// CHECK: BUG: KASAN: slab-out-of-bounds in copy_it+0x
	// CHECK-NEXT: {^}Write of size 11 at addr {dst} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} copy_it+0x
	// CHECK: {^}Allocated by task {pid}:{$}
	// CHECK-NEXT: {^} malloc+0x
	// CHECK-NEXT: {^} alloc_filled+0x
	// CHECK: The buggy address belongs to the object at {dst}
	// CHECK-NEXT:  which belongs to the cache kmalloc-16 of size 16
	// CHECK-NEXT: The buggy address is located 0 bytes inside of
	// CHECK-NEXT:  allocated 10-byte region [{dst}, {dst+10})
	// CHECK: {^}>{row:dst+10}: 
	// CHECK-NEXT: {caret:dst+10}
	copy_it(dst, src, opaque_size(11));
	KT_MARK("went on after the report");
	// CHECK: went on after the report
	/* The bad copy was skipped, as in Linux: nothing landed. */
	if (dst[0] != 0)
		KT_MARK("the out-of-bounds memcpy was performed");
	// CHECK-NOT: the out-of-bounds memcpy was performed
	free(src);
	free(dst);
	return 0;
}
