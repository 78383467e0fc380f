/*
 * kmalloc: a write one byte past a 100-byte object (kmalloc-128).
 */
#include <string.h>

#include <kasan.h>

#include "e2e.h"

KT_NOINLINE char *alloc_obj(size_t n)
{
	char *p = kmalloc(n, GFP_KERNEL);

	memset(p, 0, n);
	return p;
}

KT_NOINLINE void write_byte(char *p, size_t i)
{
	((volatile char *)p)[i] = 1;
}

int main(void)
{
	char *p = alloc_obj(opaque_size(100));

	KT_ADDR("p", p);
	// CHECK: BUG: KASAN: slab-out-of-bounds in write_byte+0x
	// CHECK-NEXT: {^}Write of size 1 at addr {p+100} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} write_byte+0x
	// CHECK-NEXT: {^} main+0x
	// CHECK: {^}Allocated by task {pid}:{$}
	// CHECK-NEXT: {^} kmalloc+0x
	// CHECK-NEXT: {^} alloc_obj+0x
	// CHECK: The buggy address belongs to the object at {p}
	// CHECK-NEXT:  which belongs to the cache kmalloc-128 of size 128
	// CHECK-NEXT: The buggy address is located 0 bytes to the right of
	// CHECK-NEXT:  allocated 100-byte region [{p}, {p+100})
	// CHECK: {^}>{row:p+100}: 
	// CHECK-NEXT: {caret:p+100}
	write_byte(p, opaque_size(100));
	kt_barrier();
	kfree(p);
	return 0;
}
