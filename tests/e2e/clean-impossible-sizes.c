/*
 * Impossible requests fail quietly, as in Linux and C: kmalloc(SIZE_MAX) and an
 * overflowing kcalloc/kmalloc_array/calloc return NULL without a report; size 0
 * gives ZERO_SIZE_PTR for kmalloc (kfree accepts it) and a unique pointer for malloc.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include <kasan.h>

#include "e2e.h"

/* Results go through here: compilers may otherwise fold "allocation != NULL" to true
 * for an allocation they remove. */
static void *volatile sink;

static int got(void *p)
{
	sink = p;
	return sink != NULL;
}

int main(void)
{
	size_t huge = opaque_size(SIZE_MAX);

	if (got(kmalloc(huge, GFP_KERNEL)) || got(kzalloc(huge, GFP_KERNEL)))
		return 1;
	if (got(kcalloc(huge, 16, GFP_KERNEL)) || got(kmalloc_array(16, huge, GFP_KERNEL)))
		return 2;
	errno = 0;
	if (got(calloc(huge, 16)))
		return 3;
#ifndef __clang__
	/* clang models calloc as not touching errno and folds this check away. */
	if (errno != ENOMEM)
		return 3;
#endif
	if (got(malloc(huge)) || got(vmalloc(huge)) || __get_free_pages(GFP_KERNEL, 40))
		return 4;
	void *z = kmalloc(opaque_size(0), GFP_KERNEL);
	if (z != ZERO_SIZE_PTR)
		return 5;
	kfree(z);
	void *a = malloc(opaque_size(0)), *b = malloc(opaque_size(0));
	if (!a || !b || a == b)
		return 6;
	free(a);
	free(b);
	return kasan_reports_count();
}
