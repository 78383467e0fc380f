/*
 * kasan=off: no checks, no reports (allocations still work); the program is a clean
 * one as far as the output goes.
 */
// ENV: KASAN_OPTIONS=kasan=off
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

KT_NOINLINE char read_byte(const char *p, long i)
{
	return ((const volatile char *)p)[i];
}

int main(void)
{
	char *p = malloc(opaque_size(16));

	memset(p, 0, 16);
	char c = read_byte(p, (long)opaque_size(16));
	free(p);
	char d = read_byte(opaque_ptr(p), 3);
	(void)c;
	(void)d;
	return 0;
}
