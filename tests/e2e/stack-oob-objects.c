/*
 * stack-out-of-bounds in a frame with several objects: writing past `small` lands in
 * the redzone between it and `big`; the report lists every object of the frame.
 */
#include <string.h>

#include "e2e.h"

KT_NOINLINE void write_byte(char *p, long i)
{
	((volatile char *)p)[i] = 0;
}

KT_NOINLINE int frame_owner(long i)
{
	char small[5];
	int big[16];
	long word;

	memset(small, 0, sizeof small);
	memset(big, 0, sizeof big);
	word = (long)opaque_size(3);
	KT_ADDR("s", small);
	KT_ADDR("b", big);
	// CHECK: BUG: KASAN: stack-out-of-bounds in write_byte+0x
	// CHECK-NEXT: {^}Write of size 1 at addr {s+5} by task {comm}/{pid}{$}
	// CHECK: {^}The buggy address belongs to stack of task {comm}/{pid}{$}
	// CHECK-NEXT: {^} and is located at offset {*} in frame:{$}
	// CHECK-NEXT: {^} frame_owner+0x0/0x
	// CHECK: {^}This frame has 3 objects:{$}
	// CHECK: 'small'{$}
	// CHECK-NOT: This frame has 1 object
	write_byte(opaque_ptr(small), i);
	kt_barrier();
	return small[0] + big[3] + (int)*(volatile long *)opaque_ptr(&word);
}

int main(void)
{
	return frame_owner((long)opaque_size(5)) == 12345;
}
