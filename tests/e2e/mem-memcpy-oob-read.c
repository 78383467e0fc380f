/*
 * memcpy reading past its source: 11 bytes copied out of a 10-byte object. The
 * checked memcpy (gcc calls the runtime's memcpy, clang its __asan_memcpy) reports the
 * whole source range, as Linux's does, with the caller in the header; the copy is
 * then skipped.
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
	char *src = alloc_filled(opaque_size(10), 'x');
	char *dst = alloc_filled(opaque_size(16), 0);

	KT_ADDR("src", src);
	// CHECK: ==================================================================
	// CHECK-NEXT: BUG: KASAN: slab-out-of-bounds in copy_it+0x
	// CHECK-NEXT: {^}Read of size 11 at addr {src} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} copy_it+0x
	// CHECK-NEXT: {^} main+0x
	// CHECK: {^}Allocated by task {pid}:{$}
	// CHECK-NEXT: {^} malloc+0x
	// CHECK-NEXT: {^} alloc_filled+0x
	// CHECK: The buggy address belongs to the object at {src}
	// CHECK-NEXT:  which belongs to the cache kmalloc-16 of size 16
	// CHECK-NEXT: The buggy address is located 0 bytes inside of
	// CHECK-NEXT:  allocated 10-byte region [{src}, {src+10})
	// CHECK: {^}>{row:src+10}: 
	// CHECK-NEXT: {caret:src+10}
	// CHECK: {^}=================================================================={$}
	copy_it(dst, src, opaque_size(11));
	KT_MARK("went on after the report");
	// CHECK-NEXT: went on after the report
	free(src);
	free(dst);
	return 0;
}
