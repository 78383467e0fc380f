/*
 * vrealloc shrinking in place (Linux 6.12+; KUnit vmalloc_oob repeats its checks
 * after vrealloc): the cut part of the area is poisoned again, so a read of the
 * old size's last byte is a vmalloc-out-of-bounds in the reader, and the area's
 * description is unchanged (same area, same address).
 */
#include <kasan.h>

#include "e2e.h"

KT_NOINLINE char read_byte(const char *p, long i)
{
	return ((const volatile char *)p)[i];
}

int main(void)
{
	char *v = vmalloc(opaque_size(2000));
	char *w = vrealloc(v, opaque_size(1000), GFP_KERNEL);

	KT_ADDR("w", w);
	if (w != v)
		return 2;
	(void)read_byte(w, 999);
	// CHECK: BUG: KASAN: vmalloc-out-of-bounds in read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {w+1999} by task {comm}/{pid}{$}
	(void)read_byte(opaque_ptr(w), (long)opaque_size(1999));
	kt_barrier();
	vfree(w);
	return 0;
}
