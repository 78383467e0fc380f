/*
 * sw-tags: a program poisoning its own heap arena (kasan_poison_range /
 * __asan_poison_memory_region). Poisoned granules get KASAN_TAG_INVALID, unpoisoned
 * ones the pointer's tag. A granule is accessible or not as a whole: poisoning takes
 * only the granules wholly inside the range (bytes 8..9 of a granule leave it alone),
 * unpoisoning every granule it touches. A read of a poisoned granule is reported with
 * the arena's tag against 0e; the unpoisoned window is not. (Globals and the stack
 * carry no tags in this mode: poisoning them does nothing.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kasan.h>

#include "e2e.h"

KT_NOINLINE char read_byte(const char *p, long i)
{
	return ((const volatile char *)p)[i];
}

int main(void)
{
	char *arena = malloc(opaque_size(256));

	memset(arena, 0, 256);
	__asan_poison_memory_region(arena + 8, 2);
	(void)read_byte(opaque_ptr(arena), 0);
	(void)read_byte(opaque_ptr(arena), 9);
	kasan_poison_range(arena, 256);
	kasan_unpoison_range(arena + 64, 20);
	memset(arena + 64, 1, 32);
	(void)read_byte(opaque_ptr(arena), 64 + 31);
	KT_MARK("window ok");
	KT_ADDR("p", arena);
	KT_ADDR("u", kasan_reset_tag(arena));
	KT_NUM("tag", kasan_get_tag(arena));
	// CHECK: {^}window ok{$}
	// CHECK: BUG: KASAN: slab-out-of-bounds in read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+100} by task {comm}/{pid}{$}
	// CHECK-NEXT: {^}Pointer tag: [{x2:tag}], memory tag: [0e]{$}
	// CHECK: {^}The buggy address belongs to the object at {u}{$}
	// CHECK: {^}>{row:u+100}: 0e 0e 0e 0e {x2:tag} {x2:tag} 0e
	// CHECK-NEXT: {caret:u+100}
	(void)read_byte(opaque_ptr(arena), (long)opaque_size(100));
	kt_barrier();
	kasan_unpoison_range(arena, 256);
	memset(arena, 0, 256);
	free(arena);
	return 0;
}
