/*
 * null-ptr-deref: reading a field at offset 8 through a NULL struct pointer. Addresses
 * in the first page have no shadow; the check reports the access (Linux's
 * null-ptr-deref), then the load itself faults: the program dies of SIGSEGV.
 */
// EXIT: SIGSEGV
#include <stddef.h>

#include "e2e.h"

struct node {
	long key;
	long value;
};

KT_NOINLINE long get_value(const struct node *n)
{
	return ((const volatile struct node *)n)->value;
}

int main(void)
{
	// CHECK: ==================================================================
	// CHECK-NEXT: BUG: KASAN: null-ptr-deref in get_value+0x
	// CHECK-NEXT: {^}Read of size 8 at addr 0000000000000008 by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} get_value+0x{*} {*}null-ptr-deref.c:
	// CHECK-NEXT: {^} main+0x
	// CHECK-NOT: Allocated by task
	// CHECK-NOT: The buggy address belongs to
	// CHECK-NOT: Memory state around the buggy address
	// CHECK: {^}=================================================================={$}
	long v = get_value(opaque_ptr(NULL));
	kt_barrier();
	KT_MARK("survived the NULL dereference");
	// CHECK-NOT: survived the NULL dereference
	return (int)v;
}
