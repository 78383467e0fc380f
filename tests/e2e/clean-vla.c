/*
 * Clean twin of the alloca bugs: VLAs and alloca() of run-time sizes used to their
 * last byte, in loops (the stack is reused), nested, and in recursion.
 */
#include <alloca.h>
#include <string.h>

#include "e2e.h"

KT_NOINLINE long use_vla(size_t n)
{
	char vla[n];
	long s = 0;

	memset(vla, 1, n);
	for (size_t i = 0; i < n; i++)
		s += ((volatile char *)vla)[i];
	return s;
}

KT_NOINLINE long use_alloca(size_t n)
{
	char *a = alloca(n);
	int *b = alloca(n * sizeof(int));

	memset(a, 2, n);
	for (size_t i = 0; i < n; i++)
		((volatile int *)b)[i] = a[i];
	return b[n - 1] + a[n - 1];
}

KT_NOINLINE long nested(size_t n)
{
	char outer[n];
	long s = 0;

	memset(outer, 3, n);
	for (size_t k = 1; k <= 4; k++) {
		char inner[n * k];

		memset(inner, 4, n * k);
		s += inner[n * k - 1] + outer[n - 1];
	}
	return s;
}

KT_NOINLINE long recurse(size_t n, int depth)
{
	char vla[n];

	memset(vla, depth, n);
	if (depth == 0)
		return vla[n - 1];
	return vla[0] + recurse(n + 3, depth - 1) + vla[n - 1];
}

int main(void)
{
	long s = 0;

	for (size_t n = 1; n < 300; n++) {
		s += use_vla(opaque_size(n));
		s += use_alloca(opaque_size(n));
		s += nested(opaque_size(n));
	}
	s += recurse(opaque_size(1), 40);
	printf("sum %ld\n", s);
	return 0;
}
