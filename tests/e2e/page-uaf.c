/*
 * __get_free_pages(order 1) = two pages, freed, then read: use-after-free (free pages
 * are poisoned 0xff), described by the physical page, an order-1 head.
 */
#include <string.h>

#include <kasan.h>

#include "e2e.h"

KT_NOINLINE char read_byte(const char *p, size_t i)
{
	return ((const volatile char *)p)[i];
}

int main(void)
{
	char *p = (char *)__get_free_pages(GFP_KERNEL, 1);

	memset(p, 'x', 8192);
	KT_ADDR("p", p);
	free_pages((unsigned long)p, 1);
	// CHECK: BUG: KASAN: use-after-free in read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+4100} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} read_byte+0x
	// CHECK-NOT: which belongs to the cache
	// CHECK: The buggy address is located 4100 bytes inside of
	// CHECK-NEXT:  freed 8192-byte region [{p}, {p+8192})
	// CHECK: {^}The buggy address belongs to the physical page:{$}
	// CHECK: {^}head: order:1
	// CHECK: {^}page dumped because: kasan: bad access detected{$}
	// CHECK: {^}>{row:p+4100}: ff ff
	// CHECK-NEXT: {caret:p+4100}
	char c = read_byte(opaque_ptr(p), opaque_size(4100));
	kt_barrier();
	(void)c;
	return 0;
}
