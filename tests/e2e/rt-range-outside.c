/*
 * kasan_poison_range / kasan_unpoison_range and __asan_(un)poison_memory_region
 * with a range that wraps around the address space or leaves user memory (which
 * the shadow covers): each call is refused with one warning line naming it, its
 * address and size, and the program goes on. These used to hang writing shadow
 * for the whole address space (kasan_unpoison_range((void *)0x1000, SIZE_MAX / 2)
 * committed 6.9 GB of shadow in 5 seconds). An empty range is no error at any
 * address, and a valid range right after the refused ones still works.
 */
#include <stdint.h>
#include <stdlib.h>

#include <kasan.h>

#include "e2e.h"

void __asan_poison_memory_region(void const volatile *addr, size_t size);
void __asan_unpoison_memory_region(void const volatile *addr, size_t size);

KT_NOINLINE char read_byte(const char *p, long i)
{
	return ((const volatile char *)p)[i];
}

int main(void)
{
	char *p = malloc(opaque_size(64));

	KT_ADDR("p", p);
	kasan_poison_range(p, SIZE_MAX);
	// CHECK: {^}kasan: kasan_poison_range({hex:p}, 18446744073709551615): range outside user memory, ignored{$}
	kasan_unpoison_range((void *)0x1000, SIZE_MAX / 2);
	// CHECK-NEXT: {^}kasan: kasan_unpoison_range(0x1000, 9223372036854775807): range outside user memory, ignored{$}
	__asan_poison_memory_region(p, SIZE_MAX);
	// CHECK-NEXT: {^}kasan: __asan_poison_memory_region({hex:p}, 18446744073709551615): range outside user memory, ignored{$}
	__asan_unpoison_memory_region((void *)0x1000, 4096);
	// CHECK-NEXT: {^}kasan: __asan_unpoison_memory_region(0x1000, 4096): range outside user memory, ignored{$}
	kasan_poison_range((void *)((1ul << 47) - 8), 16);
	// CHECK-NEXT: {^}kasan: kasan_poison_range(0x7ffffffffff8, 16): range outside user memory, ignored{$}
	kasan_poison_range((void *)-1l, 0);
	kasan_unpoison_range(NULL, 0);
	KT_MARK("went on");
	// CHECK-NEXT: {^}went on{$}
	for (int i = 0; i < 64; i++)
		p[i] = (char)i;
	kasan_poison_range(p + 32, 32);
	read_byte(p, 31);
	read_byte(opaque_ptr(p), (long)opaque_size(40));
	// CHECK-NEXT: ==================================================================
	// CHECK-NEXT: BUG: KASAN: use-after-poison in read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+40} by task {comm}/{pid}{$}
	kasan_unpoison_range(p + 32, 32);
	free(p);
	return 0;
}
