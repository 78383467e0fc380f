/*
 * JSON mode, kasan_multi_shot: a double free and an invalid free of a kmem_cache
 * object. The report lines say "access":"free" with size 0 (the text's "Free of
 * addr"), the cache the program named, the object's state and the distance; the
 * kmem_cache_destroy message for a cache with objects is a warning line. Text twin:
 * cache-free-errors.c.
 */
// ENV: KASAN_OPTIONS=kasan.report_format=json kasan_multi_shot
// JSON-LINES: all
// REPORTS: 2
#include <kasan.h>

#include "e2e.h"

KT_NOINLINE void put(struct kmem_cache *c, void *p)
{
	kmem_cache_free(c, p);
	kt_barrier();
}

int main(void)
{
	struct kmem_cache *a = kmem_cache_create("cache_a", 64, 0, SLAB_HWCACHE_ALIGN, NULL);
	char *p = kmem_cache_alloc(a, GFP_KERNEL);
	char *q = kmem_cache_alloc(a, GFP_KERNEL);

	KT_ADDR("p", p);
	KT_ADDR("q", q);
	put(a, p);
	// CHECK: {^}{"version":1,"kind":"report","mode":"generic","bug_type":"double-free","access":"free","size":0,"addr":"{hex:p}"
	// CHECK-SAME: "function":"put"
	// CHECK-SAME: "memory":"slab",
	// CHECK-SAME: "free_track":{"task":{pid},"cpu":null,"time_ns":null,"frames":[{"ip":"0x{*}","function":"put",
	// CHECK-SAME: "object":{"cache":"cache_a","start":"{hex:p}","size":64,"object_size":64,"state":"freed","offset_relation":"inside","distance":0}
	put(a, opaque_ptr(p));
	// CHECK: {^}{"version":1,"kind":"report","mode":"generic","bug_type":"invalid-free","access":"free","size":0,"addr":"{hex:q+1}"
	// CHECK-SAME: "free_track":null,
	// CHECK-SAME: "object":{"cache":"cache_a","start":"{hex:q}","size":64,"object_size":64,"state":"allocated","offset_relation":"inside","distance":1}
	put(a, opaque_ptr(q + 1));
	// CHECK: {^}{"version":1,"kind":"warning","mode":"generic","warning":"kmem_cache_destroy cache_a: Slab cache still has objects (1 allocated) when called from main+0x
	kmem_cache_destroy(a);
	put(a, q);
	kmem_cache_destroy(a);
	return 0;
}
