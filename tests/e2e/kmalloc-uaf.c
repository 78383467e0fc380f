/*
 * kmalloc then kfree, then a 4-byte write into the freed object.
 */
#include <string.h>

#include <kasan.h>

#include "e2e.h"

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
	char *p = kzalloc(opaque_size(32), GFP_KERNEL);

	KT_ADDR("p", p);
	put_obj(p);
	// CHECK: BUG: KASAN: slab-use-after-free in write_u32+0x
	// CHECK-NEXT: {^}Write of size 4 at addr {p+8} by task {comm}/{pid}{$}
	// CHECK: {^}Freed by task {pid}:{$}
	// CHECK-NEXT: {^} kfree+0x
	// CHECK-NEXT: {^} put_obj+0x
	// CHECK: The buggy address belongs to the object at {p}
	// CHECK-NEXT:  which belongs to the cache kmalloc-32 of size 32
	// CHECK-NEXT: The buggy address is located 8 bytes inside of
	// CHECK-NEXT:  freed 32-byte region [{p}, {p+32})
	// CHECK: {^}>{row:p+8}: 
	// CHECK-NEXT: {caret:p+8}
	write_u32(opaque_ptr(p), opaque_size(8));
	kt_barrier();
	return 0;
}
