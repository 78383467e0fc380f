/*
 * JSON mode, kasan_multi_shot: a stack-out-of-bounds and a global-out-of-bounds. The
 * first line describes the stack frame as the text report does ("The buggy address
 * belongs to stack of task comm/pid", " and is located at offset N in frame:", the
 * function, "This frame has N objects:" with each [offset, end) 'name'); the second
 * the variable ("The buggy address belongs to the variable:" name+off/size). The
 * second report is tainted (B), as its text twin's "Tainted: G    B".
 * Text twins: stack-oob-objects.c, global-oob.c.
 */
// ENV: KASAN_OPTIONS=kasan.report_format=json kasan_multi_shot
// JSON-LINES: all
// REPORTS: 2
#include <string.h>

#include "e2e.h"

int global_array[10] = { 1, 2, 3 };

KT_NOINLINE void write_byte(char *p, long i)
{
	((volatile char *)p)[i] = 0;
}

KT_NOINLINE int read_int(const int *a, long i)
{
	return ((const volatile int *)a)[i];
}

KT_NOINLINE int frame_owner(long i)
{
	char small[5];
	int big[16];

	memset(small, 0, sizeof small);
	memset(big, 0, sizeof big);
	KT_ADDR("s", small);
	// CHECK: {^}{"version":1,"kind":"report","mode":"generic","bug_type":"stack-out-of-bounds","access":"write","size":1,"addr":"{hex:s+5}"
	// CHECK-SAME: "taint":"",
	// CHECK-SAME: "memory":"stack","alloc_track":null,"free_track":null,"aux_stacks":null,"object":null,"page":null,"vmalloc":null,"stack":{"task":{"comm":"{comm}","pid":{pid}},"frame_offset":
	// CHECK-SAME: "frame":{"ip":"0x{*}","function":"frame_owner","offset":0,
	// CHECK-SAME: "objects":[{"offset":
	// CHECK-SAME: "name":"small"}
	// CHECK-SAME: "variable":null,"shadow":[
	write_byte(opaque_ptr(small), i);
	kt_barrier();
	return small[0] + big[3];
}

int main(void)
{
	int r = frame_owner((long)opaque_size(5));

	KT_ADDR("g", global_array);
	// CHECK: {^}{"version":1,"kind":"report","mode":"generic","bug_type":"global-out-of-bounds","access":"read","size":4,"addr":"{hex:g+40}"
	// CHECK-SAME: "taint":"B",
	// CHECK-SAME: "memory":"global","alloc_track":null,"free_track":null,"aux_stacks":null,"object":null,"page":null,"vmalloc":null,"stack":null,"variable":{"name":"global_array","offset":40,"size":
	r += read_int(global_array, (long)opaque_size(10));
	kt_barrier();
	return r == 12345;
}
