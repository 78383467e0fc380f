/*
 * Clean twin of rt-report-stale-poison: the same stale poison below the stack
 * pointer and the same allocator calls over it, without the bug: nothing printed.
 */
#include <stdlib.h>
#include <string.h>

#include <kasan.h>

#include "e2e.h"

#define DEPTH (96 << 10)

static char *poisoned;

KT_NOINLINE void leave_poison(void)
{
	char area[DEPTH];

	poisoned = opaque_ptr(area);
	__asan_poison_memory_region(area, sizeof area);
	kt_barrier();
}

int main(void)
{
	char *a[16];

	leave_poison();
	for (int i = 0; i < 16; i++) {
		a[i] = i & 1 ? calloc(1, opaque_size(100 * i + 1)) : malloc(opaque_size(4000 * i + 1));
		a[i] = realloc(a[i], opaque_size(3000 * i + 5));
	}
	for (int i = 0; i < 16; i++)
		free(a[i]);
	__asan_unpoison_memory_region(poisoned, DEPTH);
	return kasan_reports_count() != 0;
}
