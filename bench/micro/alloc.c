/*
 * alloc.c - the cost of one allocation + free pair, with a small live window.
 *
 *   alloc malloc|kmalloc|cache SIZE N [WARMUP [THREADS]]
 *
 * Keeps a ring of 64 live objects: each step frees the oldest and allocates a new
 * one of SIZE bytes into its slot, and writes one byte of it. WARMUP steps (default
 * N/16) run untimed first, then N steps are timed.
 *
 * THREADS (default 1): with 1 the loop runs on the main thread; with T > 1, T
 * pthreads each run the same loop (warm-up, then a spinning barrier, then N timed
 * steps) on a ring of their own. Prints
 *
 *   ns_per_op=<mean over threads of (own loop time / N)>
 *   agg_mops=<T * N / (last end - first start), million pairs per second>
 *   maxrss_kb=<peak RSS of the process>
 *
 * `kmalloc` (kmalloc/kfree with GFP_KERNEL) and `cache` (kmem_cache_alloc/free on
 * one cache of SIZE bytes, created once and shared by all threads) exist only in
 * builds made with `kasan cc` (__KASAN__ defined).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#ifdef __KASAN__
#include <kasan.h>
#endif

#define RING 64
#define MAX_THREADS 8

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* One ring per thread, each on its own cache lines; escapes to main's checksum,
 * so no allocation can be elided. */
static char *rings[MAX_THREADS][RING] __attribute__((aligned(64)));

__attribute__((noinline)) static void run_malloc(char **ring, size_t size, long n)
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
__attribute__((noinline)) static void run_kmalloc(char **ring, size_t size, long n)
{
	for (long i = 0; i < n; i++) {
		unsigned s = (unsigned)i & (RING - 1);
		kfree(ring[s]);
		char *p = kmalloc(size, GFP_KERNEL);
		p[0] = (char)i;
		ring[s] = p;
	}
}

static struct kmem_cache *bench_cache;

__attribute__((noinline)) static void run_cache(char **ring, size_t size, long n)
{
	(void)size; /* the cache's object size */
	for (long i = 0; i < n; i++) {
		unsigned s = (unsigned)i & (RING - 1);
		kmem_cache_free(bench_cache, ring[s]);
		char *p = kmem_cache_alloc(bench_cache, GFP_KERNEL);
		p[0] = (char)i;
		ring[s] = p;
	}
}
#endif

struct worker {
	pthread_t tid;
	char **ring;
	double t0, t1;
};

static void (*run)(char **, size_t, long) = run_malloc;
static size_t size;
static long n, warmup;
/* A spinning start line: a futex barrier wakes the sleeping thread tens of
 * microseconds late in a VM, which would show in the aggregate of short runs. */
static int arrived, nthreads;

static void start_line(void)
{
	__atomic_add_fetch(&arrived, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&arrived, __ATOMIC_ACQUIRE) < nthreads)
		__builtin_ia32_pause();
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	run(w->ring, size, warmup + RING); /* warm-up: slabs, caches, quarantine fill */
	start_line();
	w->t0 = now_ns();
	run(w->ring, size, n);
	w->t1 = now_ns();
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 4 || argc > 6) {
		fprintf(stderr, "usage: %s malloc|kmalloc|cache SIZE N [WARMUP [THREADS]]\n", argv[0]);
		return 2;
	}
	size = strtoul(argv[2], NULL, 0);
	n = atol(argv[3]);
	warmup = argc >= 5 ? atol(argv[4]) : n / 16;
	int threads = argc >= 6 ? atoi(argv[5]) : 1;
	if (threads < 1 || threads > MAX_THREADS || n < 1) {
		fprintf(stderr, "bad THREADS or N\n");
		return 2;
	}
	if (strcmp(argv[1], "malloc") != 0) {
#ifdef __KASAN__
		if (strcmp(argv[1], "kmalloc") == 0) {
			run = run_kmalloc;
		} else if (strcmp(argv[1], "cache") == 0) {
			bench_cache = kmem_cache_create("bench", (unsigned)size, 0, 0, NULL);
			if (!bench_cache) {
				fprintf(stderr, "kmem_cache_create failed\n");
				return 1;
			}
			run = run_cache;
		} else {
			fprintf(stderr, "unknown variant %s\n", argv[1]);
			return 2;
		}
#else
		fprintf(stderr, "%s needs a kasan cc build\n", argv[1]);
		return 2;
#endif
	}

	struct worker w[MAX_THREADS];
	for (int t = 0; t < threads; t++)
		w[t].ring = rings[t];
	if (threads == 1) {
		/* on the main thread, as the single-thread figures always were */
		run(w[0].ring, size, warmup + RING);
		w[0].t0 = now_ns();
		run(w[0].ring, size, n);
		w[0].t1 = now_ns();
	} else {
		nthreads = threads;
		for (int t = 0; t < threads; t++)
			if (pthread_create(&w[t].tid, NULL, worker_main, &w[t]) != 0) {
				fprintf(stderr, "pthread_create failed\n");
				return 1;
			}
		for (int t = 0; t < threads; t++)
			pthread_join(w[t].tid, NULL);
	}

	double sum_ns = 0, first = w[0].t0, last = w[0].t1;
	for (int t = 0; t < threads; t++) {
		sum_ns += w[t].t1 - w[t].t0;
		if (w[t].t0 < first)
			first = w[t].t0;
		if (w[t].t1 > last)
			last = w[t].t1;
	}
	unsigned long sum = 0;
	for (int t = 0; t < threads; t++)
		for (int i = 0; i < RING; i++)
			sum += (unsigned char)rings[t][i][0];
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("ns_per_op=%.2f agg_mops=%.3f maxrss_kb=%ld sum=%lu\n", sum_ns / threads / n,
	       threads * n / (last - first) * 1e3, ru.ru_maxrss, sum);
	return 0;
}
