/*
 * The heap arena's head map (the allocator's metadata: a word per page, below the
 * first run) reads as poisoned: a wild read into it, 1 MiB below the first object
 * the heap hands out, is reported, where before its shadow was zero and the access
 * went unseen. It is memory the page allocator never handed out, which Linux calls
 * use-after-free (KASAN_PAGE_FREE). The object itself is read cleanly first.
 */
// REPORTS: 1
#include <kasan.h>

#include "e2e.h"

KT_NOINLINE char read_byte(const char *p)
{
	return *(const volatile char *)p;
}

int main(void)
{
	char *p = kmalloc(opaque_size(64), GFP_KERNEL);
	char *meta = p - (1 << 20);

	read_byte(p);
	KT_ADDR("meta", meta);
	// CHECK: BUG: KASAN: use-after-free in read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {meta} by task {comm}/{pid}{$}
	read_byte(opaque_ptr(meta));
	kt_barrier();
	return 0;
}
