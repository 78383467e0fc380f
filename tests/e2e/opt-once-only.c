/*
 * The default is Linux's: only the first bug is reported (KASAN_BIT_REPORTED); later
 * ones are silently ignored and the program goes on.
 */
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

KT_NOINLINE char first_bug(const char *p, long i)
{
	return ((const volatile char *)p)[i];
}

KT_NOINLINE void second_bug(char *p, long i)
{
	((volatile char *)p)[i] = 0;
}

int main(void)
{
	char *p = malloc(opaque_size(16));

	memset(p, 0, 16);
	KT_ADDR("p", p);
	// CHECK: BUG: KASAN: slab-out-of-bounds in first_bug+0x
	first_bug(p, (long)opaque_size(16));
	second_bug(p, (long)opaque_size(20));
	// CHECK-NOT: second_bug
	KT_MARK("after both bugs");
	// CHECK: {^}after both bugs{$}
	free(p);
	return 0;
}
