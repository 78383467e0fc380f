/*
 * memcmp of 11 bytes where the first buffer has 10. Linux's memcmp is instrumented C
 * (lib/string.c): 8 bytes at a time while 8 remain, then bytes, so the bad read is
 * the byte at a+10, reported in memcmp itself (syzbot: "BUG: KASAN:
 * slab-out-of-bounds in memcmp+0xa6/0xb0 lib/string.c:904" / "Read of size 1",
 * Linux 5.3.0-rc5, usb_reset_and_verify_device; the word loop's "Read of size 8" is
 * in chk-str-read.c).
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

KT_NOINLINE int compare(const char *a, const char *b, size_t n)
{
	int r = memcmp(a, b, n);

	kt_barrier();
	return r;
}

int main(void)
{
	char *a = alloc_filled(opaque_size(10), 'x');
	char *b = alloc_filled(opaque_size(16), 'x');

	KT_ADDR("a", a);
	// CHECK: BUG: KASAN: slab-out-of-bounds in memcmp+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {a+10} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} memcmp+0x
	// CHECK-NEXT: {^} compare+0x
	// CHECK: The buggy address belongs to the object at {a}
	// CHECK-NEXT:  which belongs to the cache kmalloc-16 of size 16
	// CHECK-NEXT: The buggy address is located 0 bytes to the right of
	// CHECK-NEXT:  allocated 10-byte region [{a}, {a+10})
	// CHECK: {^}>{row:a+10}: 
	// CHECK-NEXT: {caret:a+10}
	int r = compare(a, b, opaque_size(11));
	free(a);
	free(b);
	return r == 12345;
}
