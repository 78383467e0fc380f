/*
 * memchr over 11 bytes of a 10-byte object, for a byte that is not there. Linux's
 * memchr is instrumented C (lib/string.c): the report names memchr itself, with the
 * first bad byte read (as in syzbot's reports of lib/string.c functions, e.g.
 * "BUG: KASAN: slab-out-of-bounds in strlen+0x7d/0xa0 lib/string.c:418" /
 * "Read of size 1", Linux 6.7.0-rc7, bond_option_arp_ip_targets_set).
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

KT_NOINLINE const char *find(const char *p, int c, size_t n)
{
	const char *r = memchr(p, c, n);

	kt_barrier();
	return r;
}

int main(void)
{
	char *p = alloc_filled(opaque_size(10), 'x');

	KT_ADDR("p", p);
	// CHECK: BUG: KASAN: slab-out-of-bounds in memchr+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+10} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} memchr+0x
	// CHECK-NEXT: {^} find+0x
	// CHECK: The buggy address belongs to the object at {p}
	// CHECK-NEXT:  which belongs to the cache kmalloc-16 of size 16
	// CHECK-NEXT: The buggy address is located 0 bytes to the right of
	// CHECK-NEXT:  allocated 10-byte region [{p}, {p+10})
	// CHECK: {^}>{row:p+10}: 
	// CHECK-NEXT: {caret:p+10}
	const char *r = find(p, 'y', opaque_size(11));
	free(p);
	return r != NULL;
}
