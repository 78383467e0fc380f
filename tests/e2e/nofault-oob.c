/*
 * copy_to_kernel_nofault (Linux KUnit copy_to_kernel_nofault_oob): the destination
 * is checked whole at entry (instrument_write) and the source read is checked too;
 * either out of bounds is a slab-out-of-bounds report naming the caller.
 */
// ENV: KASAN_OPTIONS=kasan_multi_shot
#include <kasan.h>

#include "e2e.h"

KT_NOINLINE long copy(void *dst, const void *src, size_t n)
{
	long r = copy_to_kernel_nofault(dst, src, n);
	kt_barrier();
	return r;
}

int main(void)
{
	char buf[128];
	char *k = kmalloc(opaque_size(120), GFP_KERNEL);

	KT_ADDR("k", k);
	// CHECK: BUG: KASAN: slab-out-of-bounds in copy+0x
	// CHECK-NEXT: {^}Read of size 128 at addr {k} by task {comm}/{pid}{$}
	(void)copy(buf, opaque_ptr(k), 128);
	// CHECK: BUG: KASAN: slab-out-of-bounds in copy+0x
	// CHECK-NEXT: {^}Write of size 128 at addr {k} by task {comm}/{pid}{$}
	(void)copy(opaque_ptr(k), buf, 128);
	kfree(k);
	return 0;
}
