/*
 * A stack object without a name: clang turns an alloca() of constant size into a
 * fixed stack slot, and its frame description ("1 32 10 0 ") gives it an empty name.
 * Linux prints every described object, so the list has " [32, 42) ''".
 */
// ONLY: clang gcc keeps a constant-size alloca() dynamic (alloca-out-of-bounds, tested by alloca-oob-*.c); only clang makes it a static, unnamed frame object
#include <alloca.h>
#include <string.h>

#include "e2e.h"

KT_NOINLINE char read_byte(const char *p, long i)
{
	return ((const volatile char *)p)[i];
}

KT_NOINLINE char frame_owner(long i)
{
	char *buf = alloca(10);

	memset(buf, 'x', 10);
	KT_ADDR("p", buf);
	// CHECK: BUG: KASAN: stack-out-of-bounds in read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+10} by task {comm}/{pid}{$}
	// CHECK: {^}The buggy address belongs to stack of task {comm}/{pid}{$}
	// CHECK-NEXT: {^} and is located at offset 42 in frame:{$}
	// CHECK-NEXT: {^} frame_owner+0x0/0x
	// CHECK-NEXT: {^}{$}
	// CHECK-NEXT: {^}This frame has 1 object:{$}
	// CHECK-NEXT: {^} [32, 42) ''{$}
	char c = read_byte(opaque_ptr(buf), i);
	kt_barrier();
	(void)c;
	return 0;
}

int main(void)
{
	return frame_owner((long)opaque_size(10)) == 'y';
}
