/*
 * strlen of an unterminated string: 8 characters filling an 8-byte object. Linux's
 * strlen is instrumented C, so the report names strlen and the first bad byte, and
 * strlen's frame tops the trace (syzbot: "BUG: KASAN: slab-out-of-bounds in
 * strlen+0x7d/0xa0 lib/string.c:418" / "Read of size 1 at addr ffff8881119c4781",
 * Linux 6.7.0-rc7, bond_option_arp_ip_targets_set). The scan stops there: strlen
 * returns 8.
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

int main(void)
{
	char *p = alloc_filled(opaque_size(8), 'x');

	KT_ADDR("p", p);
	// CHECK: BUG: KASAN: slab-out-of-bounds in strlen+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+8} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} strlen+0x
	// CHECK-NEXT: {^} length+0x
	// CHECK-NEXT: {^} main+0x
	// CHECK: {^}Allocated by task {pid}:{$}
	// CHECK-NEXT: {^} malloc+0x
	// CHECK-NEXT: {^} alloc_filled+0x
	// CHECK: The buggy address belongs to the object at {p}
	// CHECK-NEXT:  which belongs to the cache kmalloc-8 of size 8
	// CHECK-NEXT: The buggy address is located 0 bytes to the right of
	// CHECK-NEXT:  allocated 8-byte region [{p}, {p+8})
	// CHECK: {^}>{row:p+8}: 
	// CHECK-NEXT: {caret:p+8}
	size_t n = length(p);
	KT_NUM("n", n);
	// CHECK: {^}strlen returned 8{$}
	if (n == 8)
		KT_MARK("strlen returned 8");
	free(p);
	return 0;
}
