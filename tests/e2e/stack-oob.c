/*
 * stack-out-of-bounds, right: the byte after a 40-byte local array, read in a helper.
 * The report describes the frame that owns it and lists its objects; gcc and clang lay
 * the frame out differently (gcc: [48, 88), clang: [32, 72)).
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
	// CHECK: ==================================================================
	// CHECK-NEXT: BUG: KASAN: stack-out-of-bounds in read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {a+40} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} read_byte+0x{*} {*}stack-oob.c:
	// CHECK-NEXT: {^} frame_owner+0x{*} {*}stack-oob.c:
	// CHECK-NEXT: {^} main+0x
	// CHECK-NOT: Allocated by task
	// CHECK: {^}The buggy address belongs to stack of task {comm}/{pid}{$}
	// CHECK-NEXT(gcc): {^} and is located at offset 88 in frame:{$}
	// CHECK-NEXT(clang): {^} and is located at offset 72 in frame:{$}
	// CHECK-NEXT: {^} frame_owner+0x0/0x
	// CHECK-NEXT: {^}{$}
	// CHECK-NEXT: {^}This frame has 1 object:{$}
	// CHECK-NEXT(gcc): {^} [48, 88) 'array'{$}
	// CHECK-NEXT(clang): {^} [32, 72) 'array'{$}
	// CHECK: Memory state around the buggy address:
	// CHECK: {^}>{row:a+40}: {*}f3
	// CHECK-NEXT: {caret:a+40}
	// CHECK: {^}=================================================================={$}
	char c = read_byte(opaque_ptr(array), i);
	kt_barrier();
	(void)c;
	return 0;
}

int main(void)
{
	char c = frame_owner((long)opaque_size(40));

	KT_MARK("went on after the report");
	// CHECK-NEXT: went on after the report
	return c == 'y';
}
