/*
 * In JSON mode every line the runtime writes is a JSON object, its own messages
 * too: an options error, a warning (kmem_cache_destroy of something that is no
 * cache) and the exit statistics.
 */
// ENV: KASAN_OPTIONS=kasan.report_format=json kasan.stats=on kasan.bogus=1
// JSON-LINES: all
// REPORTS: 1
// CHECK: {^}{"version":1,"kind":"warning","mode":"generic","warning":"KASAN_OPTIONS: unknown parameter 'kasan.bogus=1'
// CHECK: {^}{"version":1,"kind":"report","mode":"generic","bug_type":"slab-out-of-bounds"
// CHECK: {^}{"version":1,"kind":"warning","mode":"generic","warning":"kmem_cache_destroy: 0x{*} is not a cache made by kmem_cache_create when called from main+0x
// CHECK: {^}{"version":1,"kind":"stats","mode":"generic","stats":{"reports":1,"depot_stacks":
#include <stdlib.h>

#include <kasan.h>

#include "e2e.h"

KT_NOINLINE char read_byte(const char *p, size_t i)
{
	return ((const volatile char *)p)[i];
}

int main(void)
{
	char *p = malloc(opaque_size(13));

	read_byte(p, opaque_size(13));
	kmem_cache_destroy(opaque_ptr(p));
	kt_barrier();
	free(p);
	return 0;
}
