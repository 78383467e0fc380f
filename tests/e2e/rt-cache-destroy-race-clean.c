/*
 * The clean twin of rt-cache-destroy-race.c: the same three threads allocate and
 * free on a cache for ten rounds, but stop (and are joined) before the cache is
 * destroyed, as a correct program does. No report, no warning; objects of another
 * cache keep their contents.
 */
#include <kasan.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

#define WORKERS 3
#define ROUNDS 10

static struct kmem_cache *volatile cache;
static volatile int stop;

static void *worker(void *arg)
{
	long id = (long)arg;

	while (!stop) {
		unsigned char *p = kmem_cache_alloc(cache, GFP_KERNEL);

		if (!p)
			abort();
		memset(p, (int)id, 48);
		for (int i = 0; i < 48; i++)
			if (p[i] != id)
				abort();
		kmem_cache_free(cache, p);
		for (volatile int i = 0; i < 200; i++)
			;
	}
	return NULL;
}

int main(void)
{
	struct kmem_cache *other = kmem_cache_create("other", 64, 0, 0, NULL);
	unsigned char *keep[100];

	for (int i = 0; i < 100; i++) {
		keep[i] = kmem_cache_alloc(other, GFP_KERNEL);
		memset(keep[i], i, 64);
	}
	for (int round = 0; round < ROUNDS; round++) {
		pthread_t t[WORKERS];

		stop = 0;
		cache = kmem_cache_create("racy", 48, 0, 0, NULL);
		for (long i = 0; i < WORKERS; i++)
			pthread_create(&t[i], NULL, worker, (void *)i);
		for (volatile int i = 0; i < 100000; i++)
			;
		stop = 1;
		for (int i = 0; i < WORKERS; i++)
			pthread_join(t[i], NULL);
		kmem_cache_destroy(cache);
	}
	for (int i = 0; i < 100; i++)
		for (int k = 0; k < 64; k++)
			if (keep[i][k] != i)
				return 1;
	for (int i = 0; i < 100; i++)
		kmem_cache_free(other, keep[i]);
	kmem_cache_destroy(other);
	KT_MARK("other cache intact");
	// CHECK-NOT: Slab cache still has objects
	return 0;
}
