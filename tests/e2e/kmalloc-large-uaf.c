/*
 * A page-backed kmalloc (above 8192 bytes) used after kfree: the pages are poisoned as
 * free (0xff), which Linux calls use-after-free (not slab-use-after-free), and the
 * report describes the physical page, not a cache.
 */
#include <string.h>

#include <kasan.h>

#include "e2e.h"

KT_NOINLINE void put_obj(void *p)
{
	kfree(p);
	kt_barrier();
}

KT_NOINLINE char read_byte(const char *p, size_t i)
{
	return ((const volatile char *)p)[i];
}

int main(void)
{
	char *p = kmalloc(opaque_size(10000), GFP_KERNEL);

	memset(p, 'x', 10000);
	KT_ADDR("p", p);
	put_obj(p);
	// CHECK: BUG: KASAN: use-after-free in read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+5000} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} read_byte+0x
	// CHECK-NOT: which belongs to the cache
	// CHECK: {^}The buggy address belongs to the physical page:{$}
	// CHECK: {^}page dumped because: kasan: bad access detected{$}
	// CHECK: {^}>{row:p+5000}: ff ff
	// CHECK-NEXT: {caret:p+5000}
	char c = read_byte(opaque_ptr(p), opaque_size(5000));
	kt_barrier();
	(void)c;
	return 0;
}
