/*
 * global-out-of-bounds: the int one past the end of a global array. Globals get a
 * redzone (0xf9) after them; the report names the variable with the offset of the
 * bad address in it and, as Linux's kallsyms size, the size with the redzone (gcc's
 * ELF symbol is the array alone, clang's includes the redzone; both print 0x60; see
 * rpt-global-size.c).
 */
#include "e2e.h"

int global_array[10] = { 1, 2, 3 };

KT_NOINLINE int read_int(const int *a, long i)
{
	return ((const volatile int *)a)[i];
}

int main(void)
{
	KT_ADDR("g", global_array);
	// CHECK: ==================================================================
	// CHECK-NEXT: BUG: KASAN: global-out-of-bounds in read_int+0x
	// CHECK-NEXT: {^}Read of size 4 at addr {g+40} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} read_int+0x{*} {*}global-oob.c:
	// CHECK-NEXT: {^} main+0x
	// CHECK-NOT: Allocated by task
	// CHECK-NOT: which belongs to the cache
	// CHECK: {^}The buggy address belongs to the variable:{$}
	// CHECK-NEXT: {^} global_array+0x28/0x60{$}
	// CHECK: Memory state around the buggy address:
	// CHECK: {^}>{row:g+40}: {*}f9
	// CHECK-NEXT: {caret:g+40}
	// CHECK: {^}=================================================================={$}
	int x = read_int(opaque_ptr(global_array), (long)opaque_size(10));
	kt_barrier();
	return x == 12345;
}
