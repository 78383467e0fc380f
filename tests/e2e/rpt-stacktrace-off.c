/*
 * kasan.stacktrace=off: no alloc/free stacks are saved, and the report leaves the
 * Allocated by task / Freed by task blocks out entirely, as Linux does when stack
 * collection is off (mm/kasan/report.c describe_object: describe_object_stacks only
 * if kasan_stack_collection_enabled(); Documentation/dev-tools/kasan.rst,
 * "kasan.stacktrace=off or =on disables or enables alloc and free stack traces
 * collection"): no "(stack is not available)" lines. The object description
 * follows the call trace's blank line directly.
 */
// ENV: KASAN_OPTIONS=kasan.stacktrace=off
#include <stdlib.h>

#include "e2e.h"

KT_NOINLINE char read_byte(const char *p, size_t i)
{
	return ((const volatile char *)p)[i];
}

int main(void)
{
	char *p = malloc(opaque_size(24));

	KT_ADDR("p", p);
	free(p);
	// CHECK-NOT: Allocated by task
	// CHECK-NOT: Freed by task
	// CHECK-NOT: stack is not available
	// CHECK: BUG: KASAN: slab-use-after-free in read_byte+0x
	// CHECK: {^} </TASK>{$}
	// CHECK-NEXT: {^}{$}
	// CHECK-NEXT: {^}The buggy address belongs to the object at {p}{$}
	// CHECK-NEXT: {^} which belongs to the cache kmalloc-32 of size 32{$}
	// CHECK-NEXT: {^}The buggy address is located 4 bytes inside of{$}
	// CHECK-NEXT: {^} freed 32-byte region [{p}, {p+32}){$}
	read_byte(opaque_ptr(p), opaque_size(4));
	kt_barrier();
	return 0;
}
