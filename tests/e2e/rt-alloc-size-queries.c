/*
 * ksize and malloc_usable_size of pointers that are not live objects:
 *  - freed: as Linux's ksize (kasan_check_byte), a read of the freed object's first
 *    byte, slab-use-after-free at the caller, and 0; malloc_usable_size the same.
 *  - interior or wild but readable: Linux's __ksize would WARN_ON (a pointer not at
 *    a kmalloc object); ASan reports malloc_usable_size of a pointer it does not
 *    own. Each gets one line naming the caller, and 0.
 * Valid pointers answer as before (rt-alloc-size-queries-clean.c).
 */
#include <kasan.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>

#include "e2e.h"

// ENV: KASAN_OPTIONS=kasan_multi_shot

static char global[64];

KT_NOINLINE size_t ks(const void *p)
{
	size_t n = ksize(p);

	kt_barrier();
	return n;
}

KT_NOINLINE size_t mus(void *p)
{
	size_t n = malloc_usable_size(p);

	kt_barrier();
	return n;
}

int main(void)
{
	char *k = kmalloc(opaque_size(100), GFP_KERNEL);
	char *m = malloc(opaque_size(50));

	KT_ADDR("k", k);
	KT_ADDR("m", m);
	KT_ADDR("g", global);
	// CHECK: {^}kasan: ksize: {hex:k+8} is not the start of a kmalloc object when called from ks+0x
	size_t a = ks(k + 8);
	// CHECK: {^}kasan: ksize: {hex:g} is not the start of a kmalloc object when called from ks+0x
	size_t b = ks(global);
	// CHECK: {^}kasan: attempting to call malloc_usable_size() for pointer which is not owned: {hex:m+16} when called from mus+0x
	size_t c = mus(m + 16);
	// CHECK: {^}kasan: attempting to call malloc_usable_size() for pointer which is not owned: {hex:g} when called from mus+0x
	size_t d = mus(global);
	fprintf(stderr, "interior/wild: %zu %zu %zu %zu\n", a, b, c, d);
	// CHECK: {^}interior/wild: 0 0 0 0{$}
	free(m);
	// CHECK: BUG: KASAN: slab-use-after-free in mus+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {m} by task {comm}/{pid}{$}
	// CHECK: {^}Freed by task {pid}:{$}
	// CHECK-NEXT: {^} free+0x
	// CHECK-NEXT: {^} main+0x
	// CHECK: The buggy address belongs to the object at {m}
	// CHECK-NEXT:  which belongs to the cache kmalloc-64 of size 64
	size_t e = mus(m);
	kfree(k);
	// CHECK: BUG: KASAN: slab-use-after-free in ks+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {k} by task {comm}/{pid}{$}
	size_t f = ks(k);
	fprintf(stderr, "freed: %zu %zu\n", e, f);
	// CHECK: {^}freed: 0 0{$}
	return 0;
}
