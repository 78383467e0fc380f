/*
 * mem.c - the memory a heap needs for the same live data.
 *
 *   mem N SEED [MIN MAX]
 *
 * Phase 1: allocates N objects with malloc, of sizes drawn uniformly from
 * [MIN, MAX] (default 16..1024) by a xorshift generator seeded with SEED, keeps them
 * all live and writes every byte of each (memset). Peak RSS then is the "live"
 * figure.
 *
 * Phase 2 (churn): frees every object, in allocation order, then allocates the same
 * N sizes again and writes them. The freed memory sits in a quarantine (if the heap
 * has one) while the second set is allocated, so peak RSS now shows what the
 * quarantine adds on top of the live data.
 *
 * Prints: live_bytes=<sum of the N sizes> rss0_kb=<peak RSS before phase 1>
 * rss1_kb=<peak RSS after phase 1> rss2_kb=<peak RSS after phase 2>
 * ms1=<phase 1 time> ms2=<phase 2 time>. Peak RSS is getrusage's ru_maxrss.
 * The pointer table is allocated (and touched) before rss0 is read.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static long maxrss_kb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* Proportional set size now (/proc/self/smaps_rollup), in KiB: a page mapped at several
 * addresses (sw-tags maps its heap once per tag value) counts once, where ru_maxrss
 * counts it at each. -1 if unreadable. */
static long pss_kb(void)
{
	FILE *f = fopen("/proc/self/smaps_rollup", "r");
	char line[256];
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "Pss: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static uint64_t rng;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Allocates and fills the N objects with the sizes drawn from SEED; returns the
 * sum of the bytes. */
__attribute__((noinline)) static size_t fill(char **obj, long n, uint64_t seed, size_t lo,
					     size_t hi)
{
	size_t total = 0;
	rng = seed;
	for (long i = 0; i < n; i++) {
		size_t size = lo + next() % (hi - lo + 1);
		obj[i] = malloc(size);
		if (!obj[i]) {
			fprintf(stderr, "malloc(%zu) failed at %ld\n", size, i);
			exit(1);
		}
		memset(obj[i], (int)(i & 0x7f) | 1, size);
		total += size;
	}
	return total;
}

int main(int argc, char **argv)
{
	if (argc != 3 && argc != 5) {
		fprintf(stderr, "usage: %s N SEED [MIN MAX]\n", argv[0]);
		return 2;
	}
	long n = atol(argv[1]);
	uint64_t seed = strtoull(argv[2], NULL, 0) | 1;
	size_t lo = argc == 5 ? strtoul(argv[3], NULL, 0) : 16;
	size_t hi = argc == 5 ? strtoul(argv[4], NULL, 0) : 1024;
	if (n < 1 || lo < 1 || hi < lo) {
		fprintf(stderr, "bad arguments\n");
		return 2;
	}
	char **obj = malloc(n * sizeof *obj);
	memset(obj, 0, n * sizeof *obj);
	long rss0 = maxrss_kb();

	double t0 = now_ms();
	size_t live = fill(obj, n, seed, lo, hi);
	double t1 = now_ms();
	long rss1 = maxrss_kb();
	long pss1 = pss_kb();

	for (long i = 0; i < n; i++)
		free(obj[i]);
	size_t again = fill(obj, n, seed, lo, hi);
	double t2 = now_ms();
	long rss2 = maxrss_kb();
	long pss2 = pss_kb();

	/* read a byte of every object back, so nothing is elided */
	unsigned long sum = 0;
	for (long i = 0; i < n; i++)
		sum += (unsigned char)obj[i][0];
	printf("live_bytes=%zu rss0_kb=%ld rss1_kb=%ld rss2_kb=%ld ms1=%.1f ms2=%.1f pss1_kb=%ld pss2_kb=%ld sum=%lu\n",
	       live, rss0, rss1, rss2, t1 - t0, t2 - t1, pss1, pss2, sum + (again != live));
	return 0;
}
