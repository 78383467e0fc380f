/*
 * Allocation from a signal handler that interrupted the allocator on the same
 * thread, made deterministic: a kmem_cache constructor (program code the slab
 * allocator runs while it builds a run for kmem_cache_alloc) raises SIGUSR1, and
 * the handler allocates with GFP_ATOMIC from kmalloc, malloc and the very cache
 * being filled, writes and checks the objects, and frees them again. The nested
 * calls need no lock the interrupted call holds, so they are served (no NULL, no
 * warning), and nothing is lost or corrupted: the interrupted allocation finishes
 * with a constructed object, and later allocations see every constructor's mark.
 */
#include <kasan.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

static struct kmem_cache *cache;
static volatile int raised, handled, served;

static void ctor(void *p)
{
	*(unsigned *)p = 0xc0ffee;
	if (!raised) {
		raised = 1;
		raise(SIGUSR1);
	}
}

static void on_usr1(int sig)
{
	(void)sig;
	unsigned char *k = kmalloc(64, GFP_ATOMIC);
	unsigned char *m = malloc(100);
	unsigned *c = kmem_cache_alloc(cache, GFP_ATOMIC);

	if (k && m && c && *c == 0xc0ffee) {
		memset(k, 0x11, 64);
		memset(m, 0x22, 100);
		served = k[63] == 0x11 && m[99] == 0x22;
	}
	kfree(k);
	free(m);
	kmem_cache_free(cache, c);
	handled++;
}

int main(void)
{
	signal(SIGUSR1, on_usr1);
	cache = kmem_cache_create("sig_ctor", 32, 0, 0, ctor);
	unsigned *first = kmem_cache_alloc(cache, GFP_KERNEL);

	if (!first || *first != 0xc0ffee || handled != 1 || !served) {
		fprintf(stderr, "first=%p handled=%d served=%d\n", (void *)first, handled, served);
		return 1;
	}
	/* The rest of the run (and the nested call's object, freed back) is intact. */
	unsigned *more[200];
	for (int i = 0; i < 200; i++) {
		more[i] = kmem_cache_alloc(cache, GFP_KERNEL);
		if (!more[i] || *more[i] != 0xc0ffee)
			return 1;
	}
	for (int i = 0; i < 200; i++)
		kmem_cache_free(cache, more[i]);
	kmem_cache_free(cache, first);
	kmem_cache_destroy(cache);
	KT_MARK("nested allocations served");
	// CHECK-NOT: nested in this thread's own allocator call
	return 0;
}
