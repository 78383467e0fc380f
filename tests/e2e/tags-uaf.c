/*
 * sw-tags: kmalloc, kfree, then a 4-byte write through the stale pointer. The memory
 * tag of a freed object is KASAN_TAG_INVALID (0xe with 4-bit tags); the stack ring's
 * newest entry for this tagged pointer is its free, so the type is slab-use-after-free
 * and both tracks come from the ring (Linux's kasan_complete_mode_report_info). The
 * access address is printed as the program held it (tagged), the object untagged,
 * the region without "freed" (tag modes print no state word), the dump in 16-byte
 * granules, one row per 256 bytes.
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

KT_NOINLINE void put_obj(void *p)
{
	kfree(p);
	kt_barrier();
}

KT_NOINLINE void write_u32(char *p, size_t off)
{
	*(volatile unsigned int *)(p + off) = 0xdeadbeef;
}

int main(void)
{
	char *p = get_obj(opaque_size(32));

	KT_ADDR("p", p);
	KT_ADDR("u", kasan_reset_tag(p));
	printf("KASAN-TEST ptag=[%02x]\n", kasan_get_tag(p));
	fflush(stdout);
	put_obj(p);
	// CHECK: BUG: KASAN: slab-use-after-free in write_u32+0x
	// CHECK-NEXT: {^}Write of size 4 at addr {p+8} by task {comm}/{pid}{$}
	// CHECK-NEXT: {^}Pointer tag: {ptag}, memory tag: [0e]{$}
	// CHECK-NEXT: {^}{$}
	// CHECK: {^}Allocated by task {pid}:{$}
	// CHECK-NEXT: {^} kmalloc+0x
	// CHECK-NEXT: {^} get_obj+0x
	// CHECK: {^}Freed by task {pid}:{$}
	// CHECK-NEXT: {^} kfree+0x
	// CHECK-NEXT: {^} put_obj+0x
	// CHECK: {^}The buggy address belongs to the object at {u}{$}
	// CHECK-NEXT: {^} which belongs to the cache kmalloc-32 of size 32{$}
	// CHECK-NEXT: {^}The buggy address is located 8 bytes inside of{$}
	// CHECK-NEXT: {^} 32-byte region [{u}, {u+32}){$}
	// CHECK: {^}>{row:u+8}: {*} 0e 0e
	// CHECK-NEXT: {caret:u+8}
	write_u32(opaque_ptr(p), opaque_size(8));
	kt_barrier();
	return 0;
}
