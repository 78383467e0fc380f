/*
 * alloca-out-of-bounds, left: the byte before a variable-length array of 10 bytes (the size is
 * only known at run time, so the compilers put redzones around it: 0xca on the
 * left, 0xcb on the right). No frame description: the object is dynamic.
 */
#include <alloca.h>
#include <string.h>

#include "e2e.h"

KT_NOINLINE char read_byte(const char *p, long i)
{
	return ((const volatile char *)p)[i];
}

KT_NOINLINE char dynamic_owner(size_t n)
{
	char buf[n];

	memset(buf, 'x', n);
	KT_ADDR("p", buf);
	// CHECK: ==================================================================
	// CHECK-NEXT: BUG: KASAN: alloca-out-of-bounds in read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p-1} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} read_byte+0x{*} {*}vla-oob-left.c:
	// CHECK-NEXT: {^} dynamic_owner+0x{*} {*}vla-oob-left.c:
	// CHECK-NEXT: {^} main+0x
	// CHECK-NOT: Allocated by task
	// CHECK: {^}The buggy address belongs to stack of task {comm}/{pid}{$}
	// CHECK: Memory state around the buggy address:
	// CHECK: {^}>{row:p-1}: {*}ca
	// CHECK-NEXT: {caret:p-1}
	// CHECK: {^}=================================================================={$}
	char c = read_byte(opaque_ptr(buf), -1);
	kt_barrier();
	(void)c;
	return 0;
}

int main(void)
{
	return dynamic_owner(opaque_size(10)) == 'y';
}
