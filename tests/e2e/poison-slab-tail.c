/*
 * __asan_poison_memory_region on bytes 8 to 9 of a 10-byte heap object: the second
 * granule's valid prefix is exactly those 2 bytes and the rest of it is redzone, so
 * ASan's rule (compiler-rt asan_poisoning.cpp, __asan_poison_memory_region) poisons
 * the granule; a read of byte 8 is a use-after-poison, while bytes 0 to 7 stay valid.
 */
#include <stdlib.h>

#include <kasan.h>

#include "e2e.h"

KT_NOINLINE char read_byte(const char *p, long i)
{
	return ((const volatile char *)p)[i];
}

int main(void)
{
	char *p = malloc(opaque_size(10));
	char c = 0;

	KT_ADDR("p", p);
	for (int i = 0; i < 10; i++)
		p[i] = (char)i;
	__asan_poison_memory_region(p + 8, 2);
	for (int i = 0; i < 8; i++)
		c += read_byte(p, i);
	// CHECK: ==================================================================
	// CHECK-NEXT: BUG: KASAN: use-after-poison in read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+8} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} read_byte+0x{*} {*}poison-slab-tail.c:
	// CHECK-NEXT: {^} main+0x
	// CHECK: The buggy address belongs to the object at {p}
	// CHECK-NEXT:  which belongs to the cache kmalloc-16 of size 16
	// CHECK: Memory state around the buggy address:
	// CHECK: {^}>{row:p+8}: {*}f7
	// CHECK-NEXT: {caret:p+8}
	// CHECK: {^}=================================================================={$}
	c += read_byte(p, (long)opaque_size(8));
	KT_MARK("went on after the report");
	// CHECK-NEXT: went on after the report
	__asan_unpoison_memory_region(p + 8, 2);
	free(p);
	return c == 100;
}
