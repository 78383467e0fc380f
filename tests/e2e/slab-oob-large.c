/*
 * slab-out-of-bounds past a large allocation: above 8192 bytes malloc is served by the
 * page allocator (Linux's kmalloc_large), so there is no cache: the report describes
 * the physical page, and the redzone up to the end of the pages is KASAN_PAGE_REDZONE
 * (0xfe), which Linux also calls slab-out-of-bounds.
 */
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

KT_NOINLINE char *alloc_big(size_t n)
{
	char *p = malloc(n);

	memset(p, 0, n);
	return p;
}

KT_NOINLINE void write_byte(char *p, size_t i)
{
	((volatile char *)p)[i] = 1;
}

int main(void)
{
	char *p = alloc_big(opaque_size(10000));

	KT_ADDR("p", p);
	// CHECK: BUG: KASAN: slab-out-of-bounds in write_byte+0x
	// CHECK-NEXT: {^}Write of size 1 at addr {p+10000} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} write_byte+0x
	// CHECK: Allocated by task {pid}:
	// CHECK-NEXT: {^} alloc_big+0x
	// CHECK-NOT: which belongs to the cache
	// CHECK: The buggy address belongs to the physical page:
	// CHECK: Memory state around the buggy address:
	// CHECK: {^}>{row:p+10000}: {*}fe
	// CHECK-NEXT: {caret:p+10000}
	write_byte(p, opaque_size(10000));
	kt_barrier();
	free(p);
	return 0;
}
