/*
 * A misaligned 4-byte load through a plain uint32_t pointer at p + 6 of an 8-byte
 * object (bytes 8 and 9 are out of bounds). The compilers take the pointer to be
 * 4-aligned, so the access cannot cross a granule as far as they know.
 */
// ONLY: outline inline checks of a 4-byte access (gcc and clang) test the shadow of its first byte only, assuming natural alignment, so this access is not caught; the outline __asan_load4_noabort checks the whole range
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

KT_NOINLINE char *alloc_buf(size_t n)
{
	char *p = malloc(n);

	memset(p, 0, n);
	return p;
}

KT_NOINLINE uint32_t load32(const uint32_t *p)
{
	return *(const volatile uint32_t *)p;
}

int main(void)
{
	char *p = alloc_buf(opaque_size(8));

	KT_ADDR("p", p);
	// CHECK: BUG: KASAN: slab-out-of-bounds in load32+0x
	// CHECK-NEXT: {^}Read of size 4 at addr {p+6} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} load32+0x
	// CHECK: Allocated by task {pid}:
	// CHECK-NEXT: {^} malloc+0x
	// CHECK-NEXT: {^} alloc_buf+0x
	// CHECK: The buggy address belongs to the object at {p}
	// CHECK-NEXT:  which belongs to the cache kmalloc-8 of size 8
	// CHECK-NEXT: The buggy address is located 6 bytes inside of
	// CHECK-NEXT:  allocated 8-byte region [{p}, {p+8})
	// CHECK: {^}>{row:p+8}: 
	// CHECK-NEXT: {caret:p+8}
	uint32_t v = load32(opaque_ptr(p + 6));
	kt_barrier();
	free(p);
	return v == 12345;
}
