/*
 * An unknown KASAN_OPTIONS parameter is an error naming it, on stderr; the program
 * still runs, with KASAN on and the other parameters applied.
 */
// ENV: KASAN_OPTIONS=kasan.bogus kasan_multi_shot
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

KT_NOINLINE char read_byte(const char *p, long i)
{
	return ((const volatile char *)p)[i];
}

int main(void)
{
	// CHECK: {^}kasan: KASAN_OPTIONS: unknown parameter 'kasan.bogus'
	KT_MARK("main runs");
	// CHECK-NEXT: {^}main runs{$}
	char *p = malloc(opaque_size(16));

	memset(p, 0, 16);
	// CHECK: BUG: KASAN: slab-out-of-bounds in read_byte+0x
	// CHECK: BUG: KASAN: slab-out-of-bounds in read_byte+0x
	read_byte(p, (long)opaque_size(16));
	read_byte(p, (long)opaque_size(17));
	free(p);
	return 0;
}
