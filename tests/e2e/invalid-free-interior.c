/*
 * invalid-free: free() of a pointer into the middle of an object (p + 1). The object
 * is still allocated; the report describes it ("1 bytes inside of allocated").
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

int main(void)
{
	char *p = alloc_buf(opaque_size(20));

	KT_ADDR("p", p);
	// CHECK: BUG: KASAN: invalid-free in release+0x
	// CHECK-NEXT: {^}Free of addr {p+1} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} release+0x{*} {*}invalid-free-interior.c:
	// CHECK-NEXT: {^} main+0x
	// CHECK: {^}Allocated by task {pid}:{$}
	// CHECK-NEXT: {^} malloc+0x
	// CHECK-NEXT: {^} alloc_buf+0x
	// CHECK-NOT: Freed by task
	// CHECK: The buggy address belongs to the object at {p}
	// CHECK-NEXT:  which belongs to the cache kmalloc-32 of size 32
	// CHECK-NEXT: The buggy address is located 1 bytes inside of
	// CHECK-NEXT: {^} 20-byte region [{p}, {p+20}){$}
	// CHECK: {^}>{row:p+1}: 
	// CHECK-NEXT: {caret:p+1}
	release(opaque_ptr(p + 1));
	KT_MARK("went on after the report");
	// CHECK: went on after the report
	/* The object is intact and still ours. */
	p[19] = 'y';
	free(p);
	return 0;
}
