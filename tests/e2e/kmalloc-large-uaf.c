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
	// CHECK-NOT: Allocated by task
	// CHECK-NOT: head: order:
	// CHECK: {^}page dumped because: kasan: bad access detected{$}
	// Freed: the folio is split (order-0 pages, no head lines), page_owner's lines
	// (mm/page_owner.c __dump_page_owner; syzkaller report 740's 6.15 layout) say
	// who allocated and who freed it.
	// CHECK-NEXT: {^}page_owner tracks the page as freed{$}
	// CHECK-NEXT: {^}page last allocated via order 2, migratetype Unmovable, gfp_mask 0x40cc0(GFP_KERNEL|__GFP_COMP), pid {pid}, tgid {pid} ({comm}), ts {*}, free_ts {*}{$}
	// CHECK-NEXT: {^} kmalloc+0x
	// CHECK-NEXT: {^} main+0x
	// CHECK: {^}page last free pid {pid} tgid {pid} stack trace:{$}
	// CHECK-NEXT: {^} kfree+0x
	// CHECK-NEXT: {^} put_obj+0x
	// CHECK: {^}>{row:p+5000}: ff ff
	// CHECK-NEXT: {caret:p+5000}
	char c = read_byte(opaque_ptr(p), opaque_size(5000));
	kt_barrier();
	(void)c;
	return 0;
}
