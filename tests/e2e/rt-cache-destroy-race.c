/*
 * kmem_cache_destroy racing kmem_cache_alloc/kmem_cache_free on the same cache from
 * three threads, ten rounds. The runtime used to abort ("quarantined object is in a
 * live run", "spare run is live"). Now the cache dies under its lock: a destroy
 * that finds an object allocated is refused with Linux's warning and retried (the
 * program learns that it went through from the handle's shadow); once it goes
 * through, each worker's next kmem_cache_alloc reads the freed cache handle, which
 * is exactly one slab-use-after-free per worker and round (also when the destroy
 * lands between the handle check and the allocation), and returns NULL. Objects
 * of another cache keep their contents throughout. Clean twin:
 * rt-cache-destroy-race-clean.c.
 */
#include <kasan.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

// ENV: KASAN_OPTIONS=kasan_multi_shot
// TIMEOUT: 60
// REPORTS: 30

#define WORKERS 3
#define ROUNDS 10

static struct kmem_cache *volatile cache;

/* The shadow byte of p: nonzero once the cache handle at p is freed. */
#ifdef __clang__
__attribute__((no_sanitize("kernel-address")))
#else
__attribute__((no_sanitize_address))
#endif
KT_NOINLINE static int freed(const void *p)
{
	return *(volatile signed char *)(((uintptr_t)p >> 3) + 0x7fff8000) != 0;
}

static void *worker(void *arg)
{
	long id = (long)arg;

	for (;;) {
		unsigned char *p = kmem_cache_alloc(cache, GFP_KERNEL);

		if (!p)
			break;
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

		cache = kmem_cache_create("racy", 48, 0, 0, NULL);
		for (long i = 0; i < WORKERS; i++)
			pthread_create(&t[i], NULL, worker, (void *)i);
		for (volatile int i = 0; i < 100000; i++)
			;
		/* Refused while a worker holds an object; retried until it goes. */
		while (!freed(cache)) {
			kmem_cache_destroy(cache);
			sched_yield();
		}
		for (int i = 0; i < WORKERS; i++)
			pthread_join(t[i], NULL);
		if (kasan_reports_count() != (round + 1) * WORKERS) {
			fprintf(stderr, "round %d: %d reports\n", round, kasan_reports_count());
			return 1;
		}
	}
	for (int i = 0; i < 100; i++)
		for (int k = 0; k < 64; k++)
			if (keep[i][k] != i) {
				fprintf(stderr, "object %d of the other cache changed\n", i);
				return 1;
			}
	KT_MARK("other cache intact");
	// FOR: n=1..30
	// CHECK: BUG: KASAN: slab-use-after-free in worker+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {*} by task {comm}/{*}{$}
	// CHECK: {^}Freed by task {pid}:{$}
	// CHECK-NEXT: {^} kmem_cache_destroy+0x
	// CHECK-NEXT: {^} main+0x
	// CHECK: which belongs to the cache kmalloc-16 of size 16
	// END-FOR
	// CHECK: {^}other cache intact{$}
	// CHECK-NOT: is not a cache made by kmem_cache_create
	// CHECK-NOT: BUG: KASAN: double-free
	// CHECK-NOT: BUG: KASAN: invalid-free
	return 0;
}
