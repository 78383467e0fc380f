/*
 * slab-use-after-free, read: a byte of a 20-byte object (kmalloc-32) after free().
 * The freed object sits in the quarantine, poisoned (0xfb); the report has both the
 * allocation and the free stack, and describes the freed object by its cache size.
 */
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

KT_NOINLINE char *alloc_buf(size_t n)
{
	char *p = malloc(n);

	memset(p, 'x', n);
	return p;
}

KT_NOINLINE void release(char *p)
{
	free(p);
	kt_barrier();
}

KT_NOINLINE char read_byte(const char *p, size_t i)
{
	return ((const volatile char *)p)[i];
}

int main(void)
{
	char *p = alloc_buf(opaque_size(20));

	KT_ADDR("p", p);
	release(p);
	// CHECK: ==================================================================
	// CHECK-NEXT: BUG: KASAN: slab-use-after-free in read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+3} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} read_byte+0x{*} {*}slab-uaf.c:
	// CHECK-NEXT: {^} main+0x
	// CHECK: {^}Allocated by task {pid}:{$}
	// CHECK-NEXT: {^} malloc+0x
	// CHECK-NEXT: {^} alloc_buf+0x{*} {*}slab-uaf.c:
	// CHECK-NEXT: {^} main+0x
	// CHECK: {^}Freed by task {pid}:{$}
	// CHECK-NEXT: {^} free+0x
	// CHECK-NEXT: {^} release+0x{*} {*}slab-uaf.c:
	// CHECK-NEXT: {^} main+0x
	// CHECK: The buggy address belongs to the object at {p}
	// CHECK-NEXT:  which belongs to the cache kmalloc-32 of size 32
	// CHECK-NEXT: The buggy address is located 3 bytes inside of
	// CHECK-NEXT:  freed 32-byte region [{p}, {p+32})
	// CHECK: Memory state around the buggy address:
	// CHECK: {^}>{row:p}: {*}fb
	// CHECK-NEXT: {caret:p+3}
	// CHECK: {^}=================================================================={$}
	char c = read_byte(opaque_ptr(p), opaque_size(3));
	kt_barrier();
	KT_MARK("went on after the report");
	// CHECK-NEXT: went on after the report
	return c == 'y';
}
