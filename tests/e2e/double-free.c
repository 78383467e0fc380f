/*
 * double-free: free() twice. Reported at the second free, with the caller in the
 * header and "Free of addr", the allocation and the (first) free stack.
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

KT_NOINLINE void first_free(char *p)
{
	free(p);
	kt_barrier();
}

KT_NOINLINE void second_free(char *p)
{
	free(p);
	kt_barrier();
}

int main(void)
{
	char *p = alloc_buf(opaque_size(20));

	KT_ADDR("p", p);
	first_free(p);
	// CHECK: ==================================================================
	// CHECK-NEXT: BUG: KASAN: double-free in second_free+0x
	// CHECK-NEXT: {^}Free of addr {p} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} second_free+0x{*} {*}double-free.c:
	// CHECK-NEXT: {^} main+0x
	// CHECK: {^}Allocated by task {pid}:{$}
	// CHECK-NEXT: {^} malloc+0x
	// CHECK-NEXT: {^} alloc_buf+0x
	// CHECK: {^}Freed by task {pid}:{$}
	// CHECK-NEXT: {^} free+0x
	// CHECK-NEXT: {^} first_free+0x
	// CHECK: The buggy address belongs to the object at {p}
	// CHECK-NEXT:  which belongs to the cache kmalloc-32 of size 32
	// CHECK-NEXT: The buggy address is located 0 bytes inside of
	// CHECK-NEXT: {^} 32-byte region [{p}, {p+32}){$}
	// CHECK: {^}>{row:p}: {*}fa fb fb fb
	// CHECK-NEXT: {caret:p}
	// CHECK: {^}=================================================================={$}
	second_free(opaque_ptr(p));
	KT_MARK("went on after the report");
	// CHECK-NEXT: went on after the report
	return 0;
}
