/*
 * kasan_poison_range / kasan_unpoison_range on user-managed memory (an arena in a
 * global): an access to a poisoned part is reported as use-after-poison (ASan's name
 * for user poisoning), and the report names the global the arena lives in; the
 * unpoisoned part is usable.
 */
#include <string.h>

#include <kasan.h>

#include "e2e.h"

char arena[256];

KT_NOINLINE char read_byte(const char *p, long i)
{
	return ((const volatile char *)p)[i];
}

int main(void)
{
	KT_ADDR("a", arena);
	kasan_poison_range(arena, sizeof arena);
	kasan_unpoison_range(arena + 64, 32);
	memset(arena + 64, 1, 32);
	read_byte(arena, 64 + 31);
	// CHECK: ==================================================================
	// CHECK-NEXT: BUG: KASAN: use-after-poison in read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {a+100} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} read_byte+0x
	// CHECK-NEXT: {^} main+0x
	// CHECK: {^}The buggy address belongs to the variable:{$}
	// CHECK-NEXT: {^} arena+0x64/0x
	// CHECK: {^}>{row:a+100}: 
	// CHECK-NEXT: {caret:a+100}
	read_byte(opaque_ptr(arena), (long)opaque_size(100));
	kasan_unpoison_range(arena, sizeof arena);
	memset(arena, 0, sizeof arena);
	return 0;
}
