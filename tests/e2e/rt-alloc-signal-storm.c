/*
 * kmalloc(GFP_ATOMIC), kfree, malloc and free in a SIGALRM handler that interrupts,
 * every 50 us for two seconds, a thread busy in kmalloc/kfree, malloc/realloc/free
 * and kmem_cache_alloc/free/create/destroy. Signals land inside the allocator's
 * critical sections: a nested request that needs a lock the interrupted call holds
 * fails with NULL (and a rate-limited warning line, as GFP_ATOMIC may fail) instead
 * of spinning forever on it (the program used to hang on the first one), and a
 * nested free never loses or corrupts anything: every object, the handler's and the
 * main loop's, keeps its contents, and the program ends in time (TIMEOUT).
 */
#include <kasan.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "e2e.h"

// TIMEOUT: 40

static struct kmem_cache *cache;
static volatile long ticks, failed, bad;
/* Objects the main loop hands to the handler, which frees them. */
static void *volatile handoff;

static void on_alarm(int sig)
{
	(void)sig;
	unsigned char *k = kmalloc(24 + ticks % 300, GFP_ATOMIC);
	unsigned char *m = malloc(40);
	unsigned char *c = kmem_cache_alloc(cache, GFP_ATOMIC);

	ticks++;
	if (!k || !m || !c)
		failed++;
	if (k) {
		memset(k, 0x5a, 24);
		bad += k[23] != 0x5a;
	}
	if (m) {
		memset(m, 0x6b, 40);
		bad += m[39] != 0x6b;
	}
	if (c) {
		memset(c, 0x7c, 56);
		bad += c[55] != 0x7c;
	}
	kfree(k);
	free(m);
	kmem_cache_free(cache, c);
	void *h = __atomic_exchange_n(&handoff, NULL, __ATOMIC_ACQ_REL);
	kfree(h);
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

int main(void)
{
	struct itimerval it = { { 0, 50 }, { 0, 50 } };
	unsigned char *keep[64] = { 0 };
	double end = now() + 2;
	long iter = 0;

	cache = kmem_cache_create("storm", 56, 0, 0, NULL);
	signal(SIGALRM, on_alarm);
	setitimer(ITIMER_REAL, &it, NULL);
	while (now() < end) {
		int i = iter % 64;
		size_t n = 8 + iter % 500;

		if (keep[i]) {
			for (size_t k = 0; k < 8; k++)
				if (keep[i][k] != (unsigned char)i)
					bad++;
			kfree(keep[i]);
		}
		keep[i] = kmalloc(n, GFP_KERNEL);
		if (!keep[i])
			abort();
		memset(keep[i], i, n);
		char *r = malloc(n);
		r = realloc(r, n * 2);
		free(r);
		void *c = kmem_cache_alloc(cache, GFP_KERNEL);
		kmem_cache_free(cache, c);
		if (iter % 100 == 0) {
			struct kmem_cache *t = kmem_cache_create("storm_tmp", 40, 0, 0, NULL);
			kmem_cache_free(t, kmem_cache_alloc(t, GFP_KERNEL));
			kmem_cache_destroy(t);
		}
		void *h = kmalloc(32, GFP_KERNEL);
		h = __atomic_exchange_n(&handoff, h, __ATOMIC_ACQ_REL);
		kfree(h);
		iter++;
	}
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_REAL, &off, NULL);
	for (int i = 0; i < 64; i++)
		kfree(keep[i]);
	kfree(handoff);
	kmem_cache_destroy(cache);
	printf("iterations %ld, signals %ld, nested failures %ld\n", iter, ticks, failed);
	if (bad || ticks < 100) {
		fprintf(stderr, "bad=%ld ticks=%ld\n", bad, ticks);
		return 1;
	}
	KT_MARK("storm survived");
	return 0;
}
