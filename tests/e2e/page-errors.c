/*
 * Page allocator misuse, one report each (multi-shot): a page block freed with kfree
 * (another allocator's pointer: invalid-free), freed with the wrong order
 * (invalid-free), then freed twice (double-free).
 */
// ENV: KASAN_OPTIONS=kasan_multi_shot
#include <kasan.h>

#include "e2e.h"

KT_NOINLINE void put_kfree(void *p)
{
	kfree(p);
	kt_barrier();
}

KT_NOINLINE void put_pages(unsigned long a, unsigned int order)
{
	free_pages(a, order);
	kt_barrier();
}

int main(void)
{
	unsigned long a = __get_free_pages(GFP_KERNEL, 1);

	KT_ADDR("a", (void *)a);
	// CHECK: BUG: KASAN: invalid-free in put_kfree+0x
	// CHECK-NEXT: {^}Free of addr {a} by task
	put_kfree(opaque_ptr((void *)a));
	// CHECK: BUG: KASAN: invalid-free in put_pages+0x
	// CHECK-NEXT: {^}Free of addr {a} by task
	put_pages(a, 0);
	put_pages(a, 1);
	// CHECK: BUG: KASAN: double-free in put_pages+0x
	// CHECK-NEXT: {^}Free of addr {a} by task
	put_pages(a, 1);
	KT_MARK("still running");
	// CHECK: still running
	return 0;
}
