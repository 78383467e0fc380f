/*
 * slab-out-of-bounds past a large allocation: above 8192 bytes malloc is served by the
 * page allocator (Linux's kmalloc_large), so there is no cache: the report describes
 * the physical page, and the redzone up to the end of the pages is KASAN_PAGE_REDZONE
 * (0xfe), which Linux also calls slab-out-of-bounds.
 *
 * As Linux (mm/kasan/report.c print_address_description: describe_object only for a
 * slab object), no Allocated by task block and no region lines: the physical page
 * (an order-2 compound page, a large kmalloc folio: `head: order:` line, `head` flag,
 * `page_type: f8(large_kmalloc)`, Linux 6.15+ mm/debug.c __dump_folio) and its
 * page_owner lines (mm/page_owner.c __dump_page_owner), laid out as in syzkaller's
 * pkg/report/testdata/linux/report/740 (6.15-rc1).
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
	// CHECK-NOT: Allocated by task
	// CHECK-NOT: which belongs to the cache
	// CHECK-NOT: -byte region
	// CHECK: {^}The buggy address belongs to the physical page:{$}
	// CHECK-NEXT: {^}page: refcount:1 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x{*}{$}
	// CHECK-NEXT: {^}head: order:2 mapcount:0 entire_mapcount:0 nr_pages_mapped:0 pincount:0{$}
	// CHECK-NEXT: {^}flags: 0x17ff00000000040(head|node=0|zone=2|lastcpupid=0x7ff){$}
	// CHECK-NEXT: {^}page_type: f8(large_kmalloc){$}
	// CHECK-NEXT: {^}raw: 017ff00000000040 0000000000000000 0000000000000000 0000000000000000{$}
	// CHECK-NEXT: {^}raw: 0000000000000000 0000000000000000 00000001f8000000 0000000000000000{$}
	// CHECK-NEXT: {^}head: 017ff00000000040 {*}
	// CHECK-NEXT: {^}head: {*}
	// CHECK-NEXT: {^}head: 017ff00000000002 {*}
	// CHECK-NEXT: {^}head: {*} 0000000000000004{$}
	// CHECK-NEXT: {^}page dumped because: kasan: bad access detected{$}
	// CHECK-NEXT: {^}page_owner tracks the page as allocated{$}
	// CHECK-NEXT: {^}page last allocated via order 2, migratetype Unmovable, gfp_mask 0x40cc0(GFP_KERNEL|__GFP_COMP), pid {pid}, tgid {pid} ({comm}), ts {*}, free_ts 0{$}
	// CHECK-NEXT: {^} malloc+0x
	// CHECK-NEXT: {^} alloc_big+0x
	// CHECK-NEXT: {^} main+0x
	// CHECK: {^}page_owner free stack trace missing{$}
	// CHECK-NEXT: {^}{$}
	// CHECK-NEXT: Memory state around the buggy address:
	// CHECK: {^}>{row:p+10000}: {*}fe
	// CHECK-NEXT: {caret:p+10000}
	write_byte(p, opaque_size(10000));
	kt_barrier();
	free(p);
	return 0;
}
