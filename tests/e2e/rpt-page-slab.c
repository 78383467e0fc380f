/*
 * The physical page of a slab object: after the object's description Linux prints
 * "The buggy address belongs to the physical page:" and dump_page of the slab's head
 * page (mm/kasan/report.c print_address_description; mm/debug.c __dump_folio,
 * 6.15+). The lines, as in syzkaller pkg/report/testdata/linux/report/740 (6.15-rc1,
 * an order-3 slab):
 *   page: refcount:0 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x12ac8
 *   head: order:3 mapcount:0 entire_mapcount:0 nr_pages_mapped:0 pincount:0
 *   flags: 0xfff00000000040(head|node=0|zone=1|lastcpupid=0x7ff)
 *   page_type: f5(slab)
 *   raw: (2 lines) / head: (4 lines)
 *   page dumped because: kasan: bad access detected
 * The hosted page metadata: the pfn is the slab's first page number, the flags the
 * x86-64 layout for node 0, ZONE_NORMAL, no last CPU; the raw words put the page
 * type f5 in the top byte of the type word (refcount 0: slabs are frozen pages)
 * and the slab's objects/inuse in `counters`; the first tail page's words hold the
 * order and the page count.
 */
#include <stdio.h>

#include <kasan.h>

#include "e2e.h"

KT_NOINLINE void write_byte(char *p, size_t i)
{
	((volatile char *)p)[i] = 1;
}

int main(void)
{
	struct kmem_cache *c = kmem_cache_create("rpt_page", 100, 8, 0, NULL);
	char *p = kmem_cache_alloc(c, GFP_KERNEL);

	KT_ADDR("p", p);
	// CHECK: BUG: KASAN: slab-out-of-bounds in write_byte+0x
	// CHECK: {^}The buggy address belongs to the object at {p}{$}
	// CHECK-NEXT: {^} which belongs to the cache rpt_page of size 100{$}
	// CHECK-NEXT: {^}The buggy address is located 0 bytes to the right of{$}
	// CHECK-NEXT: {^} allocated 100-byte region [{p}, {p+100}){$}
	// CHECK-NEXT: {^}{$}
	// CHECK-NEXT: {^}The buggy address belongs to the physical page:{$}
	// CHECK-NEXT: {^}page: refcount:0 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x{*}{$}
	// CHECK-NEXT: {^}head: order:{*} mapcount:0 entire_mapcount:0 nr_pages_mapped:0 pincount:0{$}
	// CHECK-NEXT: {^}flags: 0x17ff00000000040(head|node=0|zone=2|lastcpupid=0x7ff){$}
	// CHECK-NEXT: {^}page_type: f5(slab){$}
	// CHECK-NEXT: {^}raw: 017ff00000000040 0000000000000000 0000000000000000 0000000000000000{$}
	// CHECK-NEXT: {^}raw: {*} 00000000f5000000 0000000000000000{$}
	// CHECK-NEXT: {^}head: 017ff00000000040 0000000000000000 0000000000000000 0000000000000000{$}
	// CHECK-NEXT: {^}head: {*} 00000000f5000000 0000000000000000{$}
	// CHECK-NEXT: {^}head: 017ff0000000000{*} 00000000ffffffff 00000000ffffffff{$}
	// CHECK-NEXT: {^}head: ffffffffffffffff 0000000000000000 00000000ffffffff 00000000000000{*}{$}
	// CHECK-NEXT: {^}page dumped because: kasan: bad access detected{$}
	// CHECK-NEXT: {^}{$}
	// CHECK-NEXT: {^}Memory state around the buggy address:{$}
	// CHECK-NOT: page_owner
	write_byte(p, opaque_size(100));
	kt_barrier();
	kmem_cache_free(c, p);
	kmem_cache_destroy(c);
	return 0;
}
