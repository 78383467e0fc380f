/*
 * strcmp of an unterminated string: a holds "abcdefgh" in 8 bytes, b "abcdefghij".
 * strcmp reads a[8], in a's redzone: reported in strcmp itself, at that byte (syzbot:
 * "BUG: KASAN: use-after-free in strcmp+0x6f/0xc0 lib/string.c:283" / "Read of size
 * 1", Linux 6.16.0-rc6, hpfs_get_ea).
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

KT_NOINLINE int compare(const char *a, const char *b)
{
	int r = strcmp(a, b);

	kt_barrier();
	return r;
}

int main(void)
{
	char *a = alloc_filled(opaque_size(8), 0);
	char *b = alloc_filled(opaque_size(16), 0);

	memcpy(a, "abcdefgh", 8);
	memcpy(b, "abcdefghij", 11);
	KT_ADDR("a", a);
	// CHECK: BUG: KASAN: slab-out-of-bounds in strcmp+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {a+8} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} strcmp+0x
	// CHECK-NEXT: {^} compare+0x
	// CHECK: The buggy address belongs to the object at {a}
	// CHECK-NEXT:  which belongs to the cache kmalloc-8 of size 8
	// CHECK-NEXT: The buggy address is located 0 bytes to the right of
	// CHECK-NEXT:  allocated 8-byte region [{a}, {a+8})
	// CHECK: {^}>{row:a+8}: 
	// CHECK-NEXT: {caret:a+8}
	int r = compare(a, b);
	free(a);
	free(b);
	return r == 12345;
}
