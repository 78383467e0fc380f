/*
 * Clean twin of the free bugs: every object freed exactly once, through the matching
 * function; the frees that are no-ops (NULL, ZERO_SIZE_PTR); realloc's own frees.
 */
#include <stdlib.h>
#include <string.h>

#include <kasan.h>

#include "e2e.h"

KT_NOINLINE void release(void *p)
{
	free(p);
	kt_barrier();
}

int main(void)
{
	for (int i = 0; i < 1000; i++) {
		char *p = malloc(opaque_size((size_t)i % 300 + 1));

		p[0] = 1;
		release(p);
	}
	release(NULL);
	kfree(NULL);
	kfree(ZERO_SIZE_PTR);
	kfree(kmalloc(0, GFP_KERNEL));
	kfree_sensitive(NULL);

	char *p = malloc(opaque_size(10));
	char *q = realloc(p, opaque_size(5000)); /* frees p (or keeps it) */

	q[4999] = 0;
	q = realloc(q, opaque_size(8));
	q[7] = 0;
	free(q);

	/* The same address handed out again after a free is a new object. */
	char *a = malloc(opaque_size(24));

	free(a);
	for (int i = 0; i < 100000; i++) {
		char *b = malloc(opaque_size(24));

		b[23] = 1;
		free(b);
	}
	return 0;
}
