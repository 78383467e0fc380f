/*
 * krealloc within the object's cache size stays in place and moves the redzone with
 * the new size (Linux's krealloc_more_oob / krealloc_less_oob).
 */
// ENV: KASAN_OPTIONS=kasan_multi_shot
#include <kasan.h>

#include "e2e.h"

KT_NOINLINE void write_at(char *p, size_t off)
{
	*(volatile char *)(p + off) = 'x';
}

int main(void)
{
	char *p = kmalloc(opaque_size(201), GFP_KERNEL);
	char *q = krealloc(p, opaque_size(235), GFP_KERNEL);

	KT_ADDR("p", p);
	if (q != p)
		return 1;
	write_at(q, 234); /* valid now */
	// CHECK: BUG: KASAN: slab-out-of-bounds in write_at+0x
	// CHECK-NEXT: {^}Write of size 1 at addr {p+235} by task
	// CHECK: The buggy address is located 0 bytes to the right of
	// CHECK-NEXT:  allocated 235-byte region [{p}, {p+235})
	write_at(opaque_ptr(q), opaque_size(235));
	q = krealloc(q, opaque_size(201), GFP_KERNEL);
	if (q != p)
		return 2;
	// CHECK: BUG: KASAN: slab-out-of-bounds in write_at+0x
	// CHECK-NEXT: {^}Write of size 1 at addr {p+218} by task
	// CHECK: allocated 201-byte region [{p}, {p+201})
	write_at(opaque_ptr(q), opaque_size(218));
	kfree(q);
	return 0;
}
