/*
 * sw-tags: kfree twice. The second free sees the pointer's tag mismatch the memory's
 * (KASAN_TAG_INVALID): double-free, "Free of addr" with the tagged pointer, the tags
 * line, then the alloc and (first) free tracks from the ring.
 */
#include <stdio.h>

#include <kasan.h>

#include "e2e.h"

KT_NOINLINE char *get_obj(size_t n)
{
	char *p = kmalloc(n, GFP_KERNEL);

	kt_barrier();
	return p;
}

KT_NOINLINE void first_free(void *p)
{
	kfree(p);
	kt_barrier();
}

KT_NOINLINE void second_free(void *p)
{
	kfree(p);
	kt_barrier();
}

int main(void)
{
	char *p = get_obj(opaque_size(100));

	KT_ADDR("p", p);
	KT_ADDR("u", kasan_reset_tag(p));
	printf("KASAN-TEST ptag=[%02x]\n", kasan_get_tag(p));
	fflush(stdout);
	first_free(p);
	// CHECK: ==================================================================
	// CHECK-NEXT: BUG: KASAN: double-free in second_free+0x
	// CHECK-NEXT: {^}Free of addr {p} by task {comm}/{pid}{$}
	// CHECK-NEXT: {^}Pointer tag: {ptag}, memory tag: [0e]{$}
	// CHECK-NEXT: {^}{$}
	// CHECK: {^}Allocated by task {pid}:{$}
	// CHECK-NEXT: {^} kmalloc+0x
	// CHECK-NEXT: {^} get_obj+0x
	// CHECK: {^}Freed by task {pid}:{$}
	// CHECK-NEXT: {^} kfree+0x
	// CHECK-NEXT: {^} first_free+0x
	// CHECK: {^}The buggy address belongs to the object at {u}{$}
	// CHECK-NEXT: {^} which belongs to the cache kmalloc-128 of size 128{$}
	// CHECK-NEXT: {^}The buggy address is located 0 bytes inside of{$}
	// CHECK-NEXT: {^} 128-byte region [{u}, {u+128}){$}
	second_free(opaque_ptr(p));
	KT_MARK("after");
	// CHECK: {^}after{$}
	return 0;
}
