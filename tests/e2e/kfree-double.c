/*
 * double-free through the kernel API: kmalloc, then kfree twice.
 */
#include <string.h>

#include <kasan.h>

#include "e2e.h"

KT_NOINLINE void *alloc_obj(size_t n)
{
	void *p = kmalloc(n, GFP_KERNEL);

	memset(p, 0, n);
	return p;
}

KT_NOINLINE void put_obj(void *p)
{
	kfree(p);
	kt_barrier();
}

KT_NOINLINE void put_obj_again(void *p)
{
	kfree(p);
	kt_barrier();
}

int main(void)
{
	void *p = alloc_obj(opaque_size(64));

	KT_ADDR("p", p);
	put_obj(p);
	// CHECK: BUG: KASAN: double-free in put_obj_again+0x
	// CHECK-NEXT: {^}Free of addr {p} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} put_obj_again+0x
	// CHECK: {^}Allocated by task {pid}:{$}
	// CHECK-NEXT: {^} kmalloc+0x
	// CHECK-NEXT: {^} alloc_obj+0x
	// CHECK: {^}Freed by task {pid}:{$}
	// CHECK-NEXT: {^} kfree+0x
	// CHECK-NEXT: {^} put_obj+0x
	// CHECK: The buggy address belongs to the object at {p}
	// CHECK-NEXT:  which belongs to the cache kmalloc-64 of size 64
	// CHECK-NEXT: The buggy address is located 0 bytes inside of
	// CHECK-NEXT: {^} 64-byte region [{p}, {p+64}){$}
	put_obj_again(opaque_ptr(p));
	return 0;
}
