/*
 * sw-tags: kfree of a pointer into the middle of an object: invalid-free, reported
 * with the pointer as passed (tagged), then the object's alloc track from the ring.
 * The object stays allocated and usable.
 */
#include <stdio.h>
#include <string.h>

#include <kasan.h>

#include "e2e.h"

KT_NOINLINE char *get_obj(size_t n)
{
	char *p = kmalloc(n, GFP_KERNEL);

	kt_barrier();
	return p;
}

KT_NOINLINE void bad_free(void *p)
{
	kfree(p);
	kt_barrier();
}

int main(void)
{
	char *p = get_obj(opaque_size(64));

	KT_ADDR("p", p);
	KT_ADDR("u", kasan_reset_tag(p));
	printf("KASAN-TEST ptag=[%02x]\n", kasan_get_tag(p));
	fflush(stdout);
	// CHECK: BUG: KASAN: invalid-free in bad_free+0x
	// CHECK-NEXT: {^}Free of addr {p+16} by task {comm}/{pid}{$}
	// CHECK-NEXT: {^}Pointer tag: {ptag}, memory tag: {ptag}{$}
	// CHECK: {^}Allocated by task {pid}:{$}
	// CHECK-NEXT: {^} kmalloc+0x
	// CHECK-NEXT: {^} get_obj+0x
	// CHECK-NOT: Freed by task
	// CHECK: {^}The buggy address belongs to the object at {u}{$}
	// CHECK-NEXT: {^} which belongs to the cache kmalloc-64 of size 64{$}
	// CHECK-NEXT: {^}The buggy address is located 16 bytes inside of{$}
	// CHECK-NEXT: {^} 64-byte region [{u}, {u+64}){$}
	bad_free(opaque_ptr(p + 16));
	memset(p, 'x', 64);
	kfree(p);
	KT_MARK("after");
	// CHECK: {^}after{$}
	return 0;
}
