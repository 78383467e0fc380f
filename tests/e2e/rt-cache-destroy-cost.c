/*
 * kmem_cache_destroy costs time in proportion to the cache's own objects, not to the
 * quarantine: with the quarantine full of other objects, 8 threads each create and
 * destroy 400 caches (each cache with a few objects freed into the quarantine
 * before it goes). This took about 100 s when every destroy searched the whole
 * quarantine under its lock; TIMEOUT bounds it. The caches' quarantined objects
 * stay described until the quarantine lets them go: a use-after-free of one of
 * them, after its cache is gone, still names the cache (`rt-cache-destroy-uaf.c`).
 */
#include <kasan.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "e2e.h"

// ENV: KASAN_OPTIONS=kasan.quarantine_size=134217728
// TIMEOUT: 20

static void *worker(void *arg)
{
	long id = (long)arg;
	char name[32];

	for (int i = 0; i < 400; i++) {
		snprintf(name, sizeof(name), "t%ld_c%d", id, i);
		struct kmem_cache *c = kmem_cache_create(name, 40 + (i % 8) * 8, 0, 0, NULL);
		void *o[4];

		if (!c)
			abort();
		for (int k = 0; k < 4; k++) {
			o[k] = kmem_cache_alloc(c, GFP_KERNEL);
			if (!o[k])
				abort();
			memset(o[k], k, 40);
		}
		for (int k = 0; k < 4; k++)
			kmem_cache_free(c, o[k]);
		kmem_cache_destroy(c);
	}
	return NULL;
}

int main(void)
{
	struct timespec a, b;
	pthread_t t[8];

	/* Fill the quarantine (128 MiB) with small freed objects: 32-byte slots,
	 * four million of them. */
	for (int i = 0; i < 5000000; i++) {
		void *q = opaque_ptr(malloc(opaque_size(16)));

		free(q);
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < 8; i++)
		pthread_create(&t[i], NULL, worker, (void *)i);
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("3200 create/destroy with a full quarantine: %.3f s\n",
	       (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
	return 0;
}
