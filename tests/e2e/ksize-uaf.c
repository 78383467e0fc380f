/*
 * ksize of a freed object: as in Linux, ksize checks the object's first byte (a
 * report naming ksize's caller) and returns 0.
 */
#include <string.h>

#include <kasan.h>

#include "e2e.h"

KT_NOINLINE size_t size_of(const void *p)
{
	size_t n = ksize(p);

	kt_barrier();
	return n;
}

int main(void)
{
	char *p = kmalloc(opaque_size(100), GFP_KERNEL);

	KT_ADDR("p", p);
	kfree(p);
	// CHECK: BUG: KASAN: slab-use-after-free in size_of+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} size_of+0x
	// CHECK: {^}Freed by task {pid}:{$}
	// CHECK-NEXT: {^} kfree+0x
	// CHECK-NEXT: {^} main+0x
	// CHECK: The buggy address belongs to the object at {p}
	// CHECK-NEXT:  which belongs to the cache kmalloc-128 of size 128
	// CHECK-NEXT: The buggy address is located 0 bytes inside of
	// CHECK-NEXT:  freed 128-byte region [{p}, {p+128})
	size_t n = size_of(opaque_ptr(p));
	fprintf(stderr, "ksize=%zu\n", n);
	// CHECK: {^}ksize=0{$}
	return 0;
}
