/*
 * __asan_poison_memory_region on a whole 2-byte local array: its granule's valid
 * prefix (2 bytes) ends inside the region and the rest of the granule is redzone, so
 * ASan's rule (compiler-rt asan_poisoning.cpp, __asan_poison_memory_region: "poison
 * if byte in end.offset is unaddressable") poisons the granule; the next read of the
 * array is reported as use-after-poison, ASan's name for user poisoning.
 */
#include <kasan.h>

#include "e2e.h"

KT_NOINLINE char read_byte(const char *p, long i)
{
	return ((const volatile char *)p)[i];
}

KT_NOINLINE char frame_owner(long i)
{
	char pair[2];

	pair[0] = 'x';
	pair[1] = 'y';
	KT_ADDR("a", pair);
	__asan_poison_memory_region(pair, sizeof pair);
	// CHECK: ==================================================================
	// CHECK-NEXT: BUG: KASAN: use-after-poison in read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {a} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} read_byte+0x{*} {*}poison-stack-partial.c:
	// CHECK-NEXT: {^} frame_owner+0x{*} {*}poison-stack-partial.c:
	// CHECK-NEXT: {^} main+0x
	// CHECK: {^}The buggy address belongs to stack of task {comm}/{pid}{$}
	// CHECK: {^}This frame has 1 object:{$}
	// CHECK-NEXT: {^} [{*}, {*}) 'pair'{$}
	// CHECK: Memory state around the buggy address:
	// CHECK: {^}>{row:a}: {*}f7
	// CHECK-NEXT: {caret:a}
	// CHECK: {^}=================================================================={$}
	char c = read_byte(opaque_ptr(pair), i);
	kt_barrier();
	__asan_unpoison_memory_region(pair, sizeof pair);
	return c;
}

int main(void)
{
	char c = frame_owner((long)opaque_size(0));

	KT_MARK("went on after the report");
	// CHECK-NEXT: went on after the report
	return c == 'z';
}
