/*
 * sw-tags in JSON mode: the report names the mode and carries the two tags as
 * numbers (the pointer's, and KASAN_TAG_INVALID = 14 for a freed object); addr is the
 * tagged pointer, the object's start untagged.
 */
#include <stdio.h>

#include <kasan.h>

#include "e2e.h"

// ENV: KASAN_OPTIONS=kasan.report_format=json
// JSON-LINES: all
// REPORTS: 1

KT_NOINLINE char read_byte(const char *p, size_t i)
{
	return ((const volatile char *)p)[i];
}

int main(void)
{
	char *p = kmalloc(opaque_size(64), GFP_KERNEL);

	KT_ADDR("p", p);
	KT_ADDR("u", kasan_reset_tag(p));
	KT_NUM("tag", kasan_get_tag(p));
	kfree(p);
	// CHECK: {^}{"version":1,"kind":"report","mode":"sw-tags","bug_type":"slab-use-after-free","access":"read","size":1,"addr":"{hex:p+3}","first_bad_addr":"{hex:u+3}","pointer_tag":{tag},"memory_tag":14,
	// CHECK-SAME: "alloc_track":{"task":{pid},
	// CHECK-SAME: "free_track":{"task":{pid},
	// CHECK-SAME: "object":{"cache":"kmalloc-64","start":"{hex:u}","size":64,
	(void)read_byte(opaque_ptr(p), opaque_size(3));
	kt_barrier();
	return 0;
}
