/*
 * kfree_sensitive twice (Linux KUnit kmalloc_double_kzfree): Linux's kfree_sensitive
 * asks ksize() first, whose kasan_check_byte reports the freed object
 * (slab-use-after-free, Read of size 1, in the caller), then calls kfree, which
 * reports the double-free: two reports.
 */
// ENV: KASAN_OPTIONS=kasan_multi_shot
#include <kasan.h>

#include "e2e.h"

KT_NOINLINE void zap(char *p)
{
	kfree_sensitive(p);
	kt_barrier();
}

int main(void)
{
	char *p = kmalloc(opaque_size(16), GFP_KERNEL);

	KT_ADDR("p", p);
	zap(p);
	// CHECK: BUG: KASAN: slab-use-after-free in zap+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p} by task {comm}/{pid}{$}
	// CHECK: BUG: KASAN: double-free in zap+0x
	zap(opaque_ptr(p));
	KT_MARK("after");
	// CHECK: after
	return 0;
}
