/*
 * JSON mode, kasan_multi_shot: a use-after-free of __get_free_pages memory, a
 * vmalloc-out-of-bounds and a large kmalloc out-of-bounds. None is a slab cache's
 * memory: `object.cache` is null and `memory` says what it is ("pages", "vmalloc").
 * `page` holds what "The buggy address belongs to the physical page:" prints (pfn,
 * order, refcount, the `flags:` and `page_type:` lines' text) and, for page-allocator
 * and large-kmalloc memory, page_owner's record (`owner`: order, migratetype, gfp_mask,
 * pid, tgid, comm, ts, the stack, and the free's); `page_type` tells a large kmalloc
 * ("f8(large_kmalloc)") from __get_free_pages memory (null). A freed block's pages
 * are order 0 again (as the text's `page:` line), its owner keeps the allocation's
 * order. The vmalloc one has its mapping (`vmalloc`: start, end and the caller, as
 * "The buggy address belongs to a 1-page vmalloc region starting at ... allocated at
 * func") and, the address being in the area's page, that page. Text twins:
 * page-uaf.c, vmalloc-oob.c, rpt-page-large-kmalloc*.c.
 */
// ENV: KASAN_OPTIONS=kasan.report_format=json kasan_multi_shot
// JSON-LINES: all
// REPORTS: 3
#include <string.h>

#include <kasan.h>

#include "e2e.h"

KT_NOINLINE char read_byte(const char *p, size_t i)
{
	return ((const volatile char *)p)[i];
}

KT_NOINLINE char *make_area(unsigned long n)
{
	char *p = vmalloc(n);

	memset(p, 'v', n);
	return p;
}

int main(void)
{
	char *p = (char *)__get_free_pages(GFP_KERNEL, 1);
	char *v;

	memset(p, 'x', 8192);
	KT_ADDR("p", p);
	free_pages((unsigned long)p, 1);
	// CHECK: {^}{"version":1,"kind":"report","mode":"generic","bug_type":"use-after-free","access":"read","size":1,"addr":"{hex:p+4100}"
	// CHECK-SAME: "memory":"pages",
	// CHECK-SAME: "object":{"cache":null,"start":"{hex:p}","size":8192,
	// CHECK-SAME: "state":"freed","offset_relation":"inside","distance":4100}
	// CHECK-SAME: "page":{"pfn":{*},"order":0,"refcount":0,"mapcount":0,"mapping":"0x0","index":0,"flags":"0x17ff00000000000(node=0|zone=2|lastcpupid=0x7ff)","page_type":null,
	// CHECK-SAME: "owner":{"order":1,"migratetype":"Unmovable","gfp_mask":"0xcc0(GFP_KERNEL)","pid":{pid},"tgid":{pid},"comm":"{comm}","ts_ns":
	// CHECK-SAME: "free":{"pid":{pid},"tgid":{pid},"ts_ns":
	// CHECK-SAME: "vmalloc":null,
	// CHECK-NOT: "cache":"kmalloc-large"
	read_byte(p, opaque_size(4100));
	kt_barrier();
	v = make_area(opaque_size(3000));
	KT_ADDR("v", v);
	// CHECK: {^}{"version":1,"kind":"report","mode":"generic","bug_type":"vmalloc-out-of-bounds","access":"read","size":1,"addr":"{hex:v+3000}"
	// CHECK-SAME: "memory":"vmalloc",
	// CHECK-SAME: "object":{"cache":null,"start":"{hex:v}",
	// CHECK-SAME: "page":{"pfn":{*},"order":0,"refcount":1,"mapcount":0,"mapping":"0x0","index":0,"flags":"{*}","page_type":null,"owner":null},"vmalloc":{"start":"{hex:v}","end":"0x{*}","caller":{"ip":"0x{*}","function":"make_area",
	// CHECK-NOT: "cache":"vmalloc"
	read_byte(v, opaque_size(3000));
	kt_barrier();
	vfree(v);
	char *k = kmalloc(opaque_size(40000), GFP_KERNEL);
	KT_ADDR("k", k);
	// CHECK: {^}{"version":1,"kind":"report","mode":"generic","bug_type":"slab-out-of-bounds","access":"read","size":1,"addr":"{hex:k+40000}"
	// CHECK-SAME: "memory":"pages",
	// CHECK-SAME: "page":{"pfn":{*},"order":4,"refcount":1,"mapcount":0,"mapping":"0x0","index":0,"flags":"0x17ff00000000040(head|node=0|zone=2|lastcpupid=0x7ff)","page_type":"f8(large_kmalloc)",
	// CHECK-SAME: "owner":{"order":4,"migratetype":"Unmovable","gfp_mask":"0x40cc0(GFP_KERNEL|__GFP_COMP)","pid":{pid},
	// CHECK-SAME: "free":null}},"vmalloc":null,
	read_byte(k, opaque_size(40000));
	kt_barrier();
	kfree(k);
	return 0;
}
