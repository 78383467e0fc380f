/*
 * invalid-free: free() of an address the heap never handed out (0x12345678, no
 * mapping there). Nothing describes it: header, "Free of addr", call trace.
 */
#include <stdlib.h>

#include "e2e.h"

KT_NOINLINE void release(void *p)
{
	free(p);
	kt_barrier();
}

int main(void)
{
	// CHECK: BUG: KASAN: invalid-free in release+0x
	// CHECK-NEXT: {^}Free of addr 0000000012345678 by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} release+0x
	// CHECK-NEXT: {^} main+0x
	// CHECK-NOT: Allocated by task
	// CHECK-NOT: The buggy address belongs to
	release(opaque_ptr((void *)0x12345678));
	KT_MARK("went on after the report");
	// CHECK: went on after the report
	return 0;
}
