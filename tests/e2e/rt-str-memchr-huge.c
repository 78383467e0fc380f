/*
 * memchr(p, c, SIZE_MAX) over a 10-byte object that does not hold c: the scan checks
 * each step before reading it, so it stops at the object's end with one report of its
 * first bad byte (it used to scan the whole arena first, and hang). The program goes
 * on: memchr returned NULL.
 */
// TIMEOUT: 20
#include <stdint.h>
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
	// CHECK-NEXT: {^} main+0x
	// CHECK: The buggy address belongs to the object at {p}
	// CHECK-NEXT:  which belongs to the cache kmalloc-16 of size 16
	// CHECK-NEXT: The buggy address is located 0 bytes to the right of
	// CHECK-NEXT:  allocated 10-byte region [{p}, {p+10})
	// CHECK: {^}>{row:p+10}: 
	// CHECK-NEXT: {caret:p+10}
	const char *r = find(p, 'y', opaque_size(SIZE_MAX));
	KT_NUM("found", r != NULL);
	KT_MARK("memchr returned");
	// CHECK: {^}memchr returned{$}
	free(p);
	return r != NULL;
}
