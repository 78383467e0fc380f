/*
 * JSON mode, kasan_multi_shot: a use-after-free of __get_free_pages memory and a
 * vmalloc-out-of-bounds. Neither memory is a slab cache's: `object.cache` is null and
 * `memory` says what it is ("pages", "vmalloc"); the page-backed one has the
 * physical page (`page`: pfn, order, ... as "The buggy address belongs to the
 * physical page:"), the vmalloc one its mapping (`vmalloc`: start, end and the
 * caller, as "The buggy address belongs to the virtual mapping at [start, end)
 * created by: func"). Text twins: page-uaf.c, vmalloc-oob.c.
 */
// ENV: KASAN_OPTIONS=kasan.report_format=json kasan_multi_shot
// JSON-LINES: all
// REPORTS: 2
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
	// CHECK-SAME: "page":{"pfn":{*},"order":1,"refcount":0,
	// CHECK-SAME: "vmalloc":null,
	// CHECK-NOT: "cache":"kmalloc-large"
	read_byte(p, opaque_size(4100));
	kt_barrier();
	v = make_area(opaque_size(3000));
	KT_ADDR("v", v);
	// CHECK: {^}{"version":1,"kind":"report","mode":"generic","bug_type":"vmalloc-out-of-bounds","access":"read","size":1,"addr":"{hex:v+3000}"
	// CHECK-SAME: "memory":"vmalloc",
	// CHECK-SAME: "object":{"cache":null,"start":"{hex:v}",
	// CHECK-SAME: "page":null,"vmalloc":{"start":"{hex:v}","end":"0x{*}","caller":{"ip":"0x{*}","function":"make_area",
	// CHECK-NOT: "cache":"vmalloc"
	read_byte(v, opaque_size(3000));
	kt_barrier();
	vfree(v);
	return 0;
}
