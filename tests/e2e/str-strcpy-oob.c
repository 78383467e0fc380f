/*
 * strcpy into a buffer one byte too small: "hello" and its NUL (6 bytes) into a
 * 5-byte object. Linux's strcpy is instrumented C: the NUL's store at dst+5 is the bad
 * access, reported in strcpy (as Linux reports its lib/string.c functions, e.g.
 * syzbot's "BUG: KASAN: slab-out-of-bounds in strlen+0x7d/0xa0 lib/string.c:418").
 * strcpy then carries on and returns dst, never NULL.
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

KT_NOINLINE char *copy_str(char *dst, const char *src)
{
	char *r = strcpy(dst, src);

	kt_barrier();
	return r;
}

int main(void)
{
	char *src = alloc_filled(opaque_size(16), 0);
	char *dst = alloc_filled(opaque_size(5), 0);

	memcpy(src, "hello", 6);
	KT_ADDR("dst", dst);
	// CHECK: BUG: KASAN: slab-out-of-bounds in strcpy+0x
	// CHECK-NEXT: {^}Write of size 1 at addr {dst+5} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} strcpy+0x
	// CHECK-NEXT: {^} copy_str+0x
	// CHECK: {^}Allocated by task {pid}:{$}
	// CHECK-NEXT: {^} malloc+0x
	// CHECK-NEXT: {^} alloc_filled+0x
	// CHECK: The buggy address belongs to the object at {dst}
	// CHECK-NEXT:  which belongs to the cache kmalloc-8 of size 8
	// CHECK-NEXT: The buggy address is located 0 bytes to the right of
	// CHECK-NEXT:  allocated 5-byte region [{dst}, {dst+5})
	// CHECK: {^}>{row:dst+5}: 
	// CHECK-NEXT: {caret:dst+5}
	// CHECK: {^}strcpy returned dst, "hello"{$}
	if (copy_str(dst, src) == dst && memcmp(dst, "hello", 5) == 0)
		KT_MARK("strcpy returned dst, \"hello\"");
	free(src);
	free(dst);
	return 0;
}
