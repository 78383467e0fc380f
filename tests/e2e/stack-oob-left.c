/*
 * stack-out-of-bounds, left: the byte before a local array (its left redzone, 0xf1).
 */
#include <string.h>

#include "e2e.h"

KT_NOINLINE char read_byte(const char *p, long i)
{
	return ((const volatile char *)p)[i];
}

KT_NOINLINE char frame_owner(long i)
{
	char array[40];

	memset(array, 'x', sizeof array);
	KT_ADDR("a", array);
	// CHECK: BUG: KASAN: stack-out-of-bounds in read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {a-1} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} read_byte+0x
	// CHECK-NEXT: {^} frame_owner+0x
	// CHECK: {^}The buggy address belongs to stack of task {comm}/{pid}{$}
	// CHECK-NEXT(gcc): {^} and is located at offset 47 in frame:{$}
	// CHECK-NEXT(clang): {^} and is located at offset 31 in frame:{$}
	// CHECK-NEXT: {^} frame_owner+0x0/0x
	// CHECK: {^}This frame has 1 object:{$}
	// CHECK-NEXT: {^} [{*}, {*}) 'array'{$}
	// CHECK: {^}>{row:a-1}: {*}f1
	// CHECK-NEXT: {caret:a-1}
	char c = read_byte(opaque_ptr(array), i);
	kt_barrier();
	(void)c;
	return 0;
}

int main(void)
{
	return frame_owner(-(long)opaque_size(1)) == 'y';
}
