/*
 * alloc.c - the cost of one allocation + free pair, with a small live window.
 *
 *   alloc malloc|kmalloc SIZE N [WARMUP]
 *
 * Keeps a ring of 64 live objects: each step frees the oldest and allocates a new
 * one of SIZE bytes into its slot, and writes one byte of it. WARMUP steps (default
 * N/16) run untimed first, then N steps are timed; prints "ns_per_op=<x>
 * maxrss_kb=<peak RSS of the process>". `kmalloc` (kmalloc/kfree with
 * GFP_KERNEL) exists only in builds made with `kasan cc` (__KASAN__ defined).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#ifdef __KASAN__
#include <kasan.h>
#endif

#define RING 64

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Escapes to main's checksum, so no allocation can be elided. */
static char *ring[RING];

__attribute__((noinline)) static void run_malloc(size_t size, long n)
{
	for (long i = 0; i < n; i++) {
		unsigned s = (unsigned)i & (RING - 1);
		free(ring[s]);
		char *p = malloc(size);
		p[0] = (char)i;
		ring[s] = p;
	}
}

#ifdef __KASAN__
__attribute__((noinline)) static void run_kmalloc(size_t size, long n)
{
	for (long i = 0; i < n; i++) {
		unsigned s = (unsigned)i & (RING - 1);
		kfree(ring[s]);
		char *p = kmalloc(size, GFP_KERNEL);
		p[0] = (char)i;
		ring[s] = p;
	}
}
#endif

int main(int argc, char **argv)
{
	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: %s malloc|kmalloc SIZE N [WARMUP]\n", argv[0]);
		return 2;
	}
	int use_kmalloc = strcmp(argv[1], "kmalloc") == 0;
	size_t size = strtoul(argv[2], NULL, 0);
	long n = atol(argv[3]);
	long warmup = argc == 5 ? atol(argv[4]) : n / 16;
	void (*run)(size_t, long) = run_malloc;
	if (use_kmalloc) {
#ifdef __KASAN__
		run = run_kmalloc;
#else
		fprintf(stderr, "kmalloc needs a kasan cc build\n");
		return 2;
#endif
	}
	run(size, warmup + RING); /* warm-up: slabs, caches, quarantine fill */

	double t0 = now_ns();
	run(size, n);
	double t1 = now_ns();

	unsigned long sum = 0;
	for (int i = 0; i < RING; i++)
		sum += (unsigned char)ring[i][0];
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("ns_per_op=%.2f maxrss_kb=%ld sum=%lu\n", (t1 - t0) / n, ru.ru_maxrss, sum);
	return 0;
}
