/*
 * strcpy into a buffer one byte too small: "hello" and its NUL (6 bytes) into a
 * 5-byte object.
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

KT_NOINLINE void copy_str(char *dst, const char *src)
{
	strcpy(dst, src);
	kt_barrier();
}

int main(void)
{
	char *src = alloc_filled(opaque_size(16), 0);
	char *dst = alloc_filled(opaque_size(5), 0);

	memcpy(src, "hello", 6);
	KT_ADDR("dst", dst);
	// CHECK: BUG: KASAN: slab-out-of-bounds in copy_str+0x
	// CHECK-NEXT: {^}Write of size 6 at addr {dst} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} copy_str+0x
	// CHECK: {^}Allocated by task {pid}:{$}
	// CHECK-NEXT: {^} malloc+0x
	// CHECK-NEXT: {^} alloc_filled+0x
	// CHECK: The buggy address belongs to the object at {dst}
	// CHECK-NEXT:  which belongs to the cache kmalloc-8 of size 8
	// CHECK-NEXT: The buggy address is located 0 bytes inside of
	// CHECK-NEXT:  allocated 5-byte region [{dst}, {dst+5})
	// CHECK: {^}>{row:dst+5}: 
	// CHECK-NEXT: {caret:dst+5}
	copy_str(dst, src);
	free(src);
	free(dst);
	return 0;
}
