/*
 * global-out-of-bounds in a partial granule: a write to the byte right after a 13-byte
 * static array (its last granule is partial, shadow 05).
 */
#include "e2e.h"

static char name[13] = "hello, kasan";

KT_NOINLINE void write_byte(char *p, long i)
{
	((volatile char *)p)[i] = '!';
}

int main(void)
{
	KT_ADDR("g", name);
	// CHECK: BUG: KASAN: global-out-of-bounds in write_byte+0x
	// CHECK-NEXT: {^}Write of size 1 at addr {g+13} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} write_byte+0x
	// CHECK: {^}The buggy address belongs to the variable:{$}
	// CHECK-NEXT: {^} name+0xd/0x
	// CHECK: {^}>{row:g+13}: {*}05 f9
	// CHECK-NEXT: {caret:g+13}
	write_byte(opaque_ptr(name), (long)opaque_size(13));
	kt_barrier();
	return 0;
}
