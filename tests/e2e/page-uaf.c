/*
 * __get_free_pages(order 1) = two pages, freed, then read: use-after-free (free pages
 * are poisoned 0xff), described by the physical page alone.
 *
 * As Linux: page-allocator memory is no slab object (mm/kasan/report.c
 * print_address_description), so no Allocated/Freed blocks and no region lines;
 * the page is a plain order-0 page (no __GFP_COMP: no head lines, never `head:
 * order:0`), freed (refcount 0, no page type), then the page_owner lines
 * (mm/page_owner.c __dump_page_owner) with the allocation's order, gfp mask, task
 * and both stacks. Lines as in syzkaller's pkg/report/testdata/linux/report/698
 * ("KASAN: use-after-free Read in udf_sync_fs": refcount:0, no page type,
 * "page_owner tracks the page as freed") in the 6.15 form of report 740 ("page:
 * refcount:", "page last free pid N tgid N stack trace:").
 */
#include <stdio.h>
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
	/* A hosted pfn is the address's page number. */
	printf("KASAN-TEST pfn=%#lx\n", ((unsigned long)p + 4100) >> 12);
	fflush(stdout);
	free_pages((unsigned long)p, 1);
	// CHECK: BUG: KASAN: use-after-free in read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+4100} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} read_byte+0x
	// CHECK-NOT: which belongs to the cache
	// CHECK-NOT: Allocated by task
	// CHECK-NOT: Freed by task
	// CHECK-NOT: -byte region
	// CHECK-NOT: head: order:
	// CHECK-NOT: page_type:
	// CHECK: {^} </TASK>{$}
	// CHECK-NEXT: {^}{$}
	// CHECK-NEXT: {^}The buggy address belongs to the physical page:{$}
	// CHECK-NEXT: {^}page: refcount:0 mapcount:0 mapping:0000000000000000 index:0x0 pfn:{hex:pfn}{$}
	// CHECK-NEXT: {^}flags: 0x17ff00000000000(node=0|zone=2|lastcpupid=0x7ff){$}
	// CHECK-NEXT: {^}raw: 017ff00000000000 0000000000000000 0000000000000000 0000000000000000{$}
	// CHECK-NEXT: {^}raw: 0000000000000000 0000000000000000 00000000ffffffff 0000000000000000{$}
	// CHECK-NEXT: {^}page dumped because: kasan: bad access detected{$}
	// CHECK-NEXT: {^}page_owner tracks the page as freed{$}
	// CHECK-NEXT: {^}page last allocated via order 1, migratetype Unmovable, gfp_mask 0xcc0(GFP_KERNEL), pid {pid}, tgid {pid} ({comm}), ts {*}, free_ts {*}{$}
	// CHECK-NEXT: {^} __get_free_pages+0x
	// CHECK-NEXT: {^} main+0x{*} {*}page-uaf.c:
	// CHECK: {^}page last free pid {pid} tgid {pid} stack trace:{$}
	// CHECK-NEXT: {^} free_pages+0x
	// CHECK-NEXT: {^} main+0x{*} {*}page-uaf.c:
	// CHECK: {^}{$}
	// CHECK-NEXT: {^}Memory state around the buggy address:{$}
	// CHECK: {^}>{row:p+4100}: ff ff
	// CHECK-NEXT: {caret:p+4100}
	char c = read_byte(opaque_ptr(p), opaque_size(4100));
	kt_barrier();
	(void)c;
	return 0;
}
