/*
 * invalid-free: free() of a global array. The report names the variable.
 */
#include <stdlib.h>

#include "e2e.h"

char global_table[40];

KT_NOINLINE void release(void *p)
{
	free(p);
	kt_barrier();
}

int main(void)
{
	KT_ADDR("g", global_table);
	// CHECK: BUG: KASAN: invalid-free in release+0x
	// CHECK-NEXT: {^}Free of addr {g} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} release+0x
	// CHECK-NEXT: {^} main+0x
	// CHECK-NOT: Allocated by task
	// CHECK: {^}The buggy address belongs to the variable:{$}
	// CHECK-NEXT: {^} global_table+0x0/0x
	// CHECK: {^}>{row:g}: 
	// CHECK-NEXT: {caret:g}
	release(opaque_ptr(global_table));
	KT_MARK("went on after the report");
	// CHECK: went on after the report
	return 0;
}
