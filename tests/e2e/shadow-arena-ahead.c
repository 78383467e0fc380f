/*
 * The heap arena's never-used memory reads as free pages well past the last run (64
 * MiB ahead, in shared shadow pages that cost no memory): a wild read 32 MiB past
 * an early object is reported as the use-after-free Linux prints for memory the page
 * allocator holds (KASAN_PAGE_FREE), where before only 1 MiB ahead was marked and
 * the read went unseen. The object itself is read cleanly first.
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
	char *ahead = p + (32 << 20);

	read_byte(p);
	KT_ADDR("ahead", ahead);
	// CHECK: BUG: KASAN: use-after-free in read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {ahead} by task {comm}/{pid}{$}
	read_byte(opaque_ptr(ahead));
	kt_barrier();
	return 0;
}
