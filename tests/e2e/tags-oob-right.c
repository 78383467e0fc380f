/*
 * sw-tags: out of bounds into the next granule. kmalloc(40) comes from kmalloc-64;
 * tag modes have no short granules, so the object owns its first three granules
 * (48 bytes, its tag) and the fourth is KASAN_TAG_INVALID (____kasan_kmalloc's
 * redzone poison). A read at byte 47 passes (same granule, not caught: Linux's
 * documented limit), one at byte 48 is reported: the ring's newest entry for the
 * pointer is its alloc, so slab-out-of-bounds. The region is the granule-rounded
 * allocation, 48 bytes.
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

KT_NOINLINE char read_byte(const char *p, size_t i)
{
	return ((const volatile char *)p)[i];
}

int main(void)
{
	char *p = get_obj(opaque_size(40));

	KT_ADDR("p", p);
	KT_ADDR("u", kasan_reset_tag(p));
	printf("KASAN-TEST ptag=[%02x]\n", kasan_get_tag(p));
	fflush(stdout);
	(void)read_byte(opaque_ptr(p), opaque_size(47));
	KT_MARK("byte 47 passed");
	// CHECK: {^}byte 47 passed{$}
	// CHECK: BUG: KASAN: slab-out-of-bounds in read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+48} by task {comm}/{pid}{$}
	// CHECK-NEXT: {^}Pointer tag: {ptag}, memory tag: [0e]{$}
	// CHECK: Call Trace:
	// CHECK-NEXT: {^} <TASK>{$}
	// CHECK-NEXT: {^} read_byte+0x{*}tags-oob-right.c:
	// CHECK-NEXT: {^} main+0x
	// CHECK: {^}Allocated by task {pid}:{$}
	// CHECK-NEXT: {^} kmalloc+0x
	// CHECK-NEXT: {^} get_obj+0x
	// CHECK-NOT: Freed by task
	// CHECK: {^}The buggy address belongs to the object at {u}{$}
	// CHECK-NEXT: {^} which belongs to the cache kmalloc-64 of size 64{$}
	// CHECK-NEXT: {^}The buggy address is located 0 bytes to the right of{$}
	// CHECK-NEXT: {^} 48-byte region [{u}, {u+48}){$}
	// CHECK: {^}Memory state around the buggy address:{$}
	// CHECK: {^}>{row:u+48}: 
	// CHECK-NEXT: {caret:u+48}
	(void)read_byte(opaque_ptr(p), opaque_size(48));
	kt_barrier();
	kfree(p);
	return 0;
}
