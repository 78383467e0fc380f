/*
 * vmalloc-out-of-bounds: one byte past a 3000-byte vmalloc area (its tail is
 * KASAN_VMALLOC_INVALID, 0xf8). Linux describes a vmalloc address by its mapping:
 * "The buggy address belongs to the virtual mapping at [start, end) created by:" and
 * the function that called vmalloc.
 */
#include <string.h>

#include <kasan.h>

#include "e2e.h"

KT_NOINLINE char *make_area(unsigned long n)
{
	char *p = vmalloc(n);

	memset(p, 'v', n);
	return p;
}

KT_NOINLINE char read_byte(const char *p, size_t i)
{
	return ((const volatile char *)p)[i];
}

int main(void)
{
	char *p = make_area(opaque_size(3000));

	KT_ADDR("p", p);
	// CHECK: BUG: KASAN: vmalloc-out-of-bounds in read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+3000} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} read_byte+0x
	// CHECK-NOT: which belongs to the cache
	// CHECK: {^}The buggy address belongs to the virtual mapping at{$}
	// CHECK-NEXT: {^} [{p}, {*}) created by:{$}
	// CHECK-NEXT: {^} make_area+0x
	// CHECK: {^}>{row:p+3000}: {*}f8
	// CHECK-NEXT: {caret:p+3000}
	char c = read_byte(p, opaque_size(3000));
	kt_barrier();
	vfree(p);
	(void)c;
	return 0;
}
