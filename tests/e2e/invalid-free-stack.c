/*
 * invalid-free: free() of a stack array. The report describes the stack frame the
 * address belongs to, with its objects.
 */
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

KT_NOINLINE void release(void *p)
{
	free(p);
	kt_barrier();
}

KT_NOINLINE void owner(void)
{
	char local[24];

	memset(local, 0, sizeof local);
	KT_ADDR("s", local);
	// CHECK: BUG: KASAN: invalid-free in release+0x
	// CHECK-NEXT: {^}Free of addr {s} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} release+0x
	// CHECK-NEXT: {^} owner+0x
	// CHECK-NOT: Allocated by task
	// CHECK: {^}The buggy address belongs to stack of task {comm}/{pid}{$}
	// CHECK-NEXT: {^} and is located at offset {*} in frame:{$}
	// CHECK-NEXT: {^} owner+0x0/0x
	// CHECK: {^}This frame has 1 object:{$}
	// CHECK-NEXT: {^} [{*}, {*}) 'local'{$}
	// CHECK: {^}>{row:s}: 
	// CHECK-NEXT: {caret:s}
	release(opaque_ptr(local));
	kt_barrier();
}

int main(void)
{
	owner();
	KT_MARK("went on after the report");
	// CHECK: went on after the report
	return 0;
}
