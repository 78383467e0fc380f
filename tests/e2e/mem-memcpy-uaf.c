/*
 * memcpy from a freed object: slab-use-after-free, the whole source range.
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

KT_NOINLINE void release(char *p)
{
	free(p);
	kt_barrier();
}

int main(void)
{
	char *src = alloc_filled(opaque_size(24), 'x');
	char *dst = alloc_filled(opaque_size(24), 0);

	KT_ADDR("src", src);
	release(src);
	// CHECK: BUG: KASAN: slab-use-after-free in copy_it+0x
	// CHECK-NEXT: {^}Read of size 4 at addr {src} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} copy_it+0x
	// CHECK: {^}Allocated by task {pid}:{$}
	// CHECK-NEXT: {^} malloc+0x
	// CHECK-NEXT: {^} alloc_filled+0x
	// CHECK: {^}Freed by task {pid}:{$}
	// CHECK-NEXT: {^} free+0x
	// CHECK-NEXT: {^} release+0x
	// CHECK: The buggy address belongs to the object at {src}
	// CHECK-NEXT:  which belongs to the cache kmalloc-32 of size 32
	// CHECK-NEXT: The buggy address is located 0 bytes inside of
	// CHECK-NEXT:  freed 32-byte region [{src}, {src+32})
	// CHECK: {^}>{row:src}: 
	// CHECK-NEXT: {caret:src}
	copy_it(dst, opaque_ptr(src), opaque_size(4));
	free(dst);
	return 0;
}
