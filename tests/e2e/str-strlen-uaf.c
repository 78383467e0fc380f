/*
 * strlen of a freed string: slab-use-after-free at its first byte, in strlen (syzbot:
 * "BUG: KASAN: use-after-free in strcmp+0x6f/0xc0 lib/string.c:283" / "Read of size
 * 1", Linux 6.16.0-rc6, hpfs_get_ea: the same byte-by-byte check).
 */
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

KT_NOINLINE char *alloc_filled(size_t n, int c)
{
	char *p = malloc(n);

	memset(p, c, n);
	return p;
}

KT_NOINLINE size_t length(const char *s)
{
	size_t n = strlen(s);

	kt_barrier();
	return n;
}

KT_NOINLINE void release(char *p)
{
	free(p);
	kt_barrier();
}

int main(void)
{
	char *p = alloc_filled(opaque_size(40), 0);

	memcpy(p, "a string that gets freed", 25);
	KT_ADDR("p", p);
	release(p);
	// CHECK: BUG: KASAN: slab-use-after-free in strlen+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} strlen+0x
	// CHECK-NEXT: {^} length+0x
	// CHECK: {^}Freed by task {pid}:{$}
	// CHECK-NEXT: {^} free+0x
	// CHECK-NEXT: {^} release+0x
	// CHECK: The buggy address belongs to the object at {p}
	// CHECK-NEXT:  which belongs to the cache kmalloc-64 of size 64
	// CHECK-NEXT: The buggy address is located 0 bytes inside of
	// CHECK-NEXT:  freed 64-byte region [{p}, {p+64})
	size_t n = length(opaque_ptr(p));
	return n == 12345;
}
