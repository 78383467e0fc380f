/*
 * Clean twin of rt-range-outside: large legitimate ranges. A 1 GiB arena mapped by
 * the program is poisoned and unpoisoned whole, five times over, and a 64 GiB
 * reservation is unpoisoned once. Unpoisoning gives whole shadow pages back to the
 * kernel instead of writing them, so it is fast and the resident set returns to
 * where it was: the program measures time and RSS (/proc/self/statm) and fails past
 * the bounds. Parts of the arena are used between rounds.
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <kasan.h>

#include "e2e.h"

static long rss_mib(void)
{
	long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f || fscanf(f, "%ld %ld", &size, &resident) != 2)
		return -1;
	fclose(f);
	return resident * sysconf(_SC_PAGESIZE) >> 20;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void)
{
	size_t len = 1ul << 30;
	char *a = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	char *big = mmap(NULL, 64ul << 30, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (a == MAP_FAILED || big == MAP_FAILED) {
		fprintf(stderr, "mmap failed\n");
		return 1;
	}
	long before = rss_mib();
	double t0 = now(), unpoison_time = 0;
	for (int round = 0; round < 5; round++) {
		kasan_poison_range(a, len);
		double t1 = now();
		kasan_unpoison_range(a, len);
		unpoison_time += now() - t1;
		memset(a + round * 4096, round, 4096);
		a[len - 1] = (char)round;
	}
	double t1 = now();
	kasan_unpoison_range(big, 64ul << 30);
	double big_time = now() - t1;
	double total = now() - t0;
	long after = rss_mib();
	printf("rss before %ld after %ld MiB, total %.3f s, unpoison %.3f s, 64 GiB unpoison %.3f s\n",
	       before, after, total, unpoison_time, big_time);
	if (after > before + 32) {
		fprintf(stderr, "RSS grew: %ld -> %ld MiB\n", before, after);
		return 1;
	}
	if (total > 10 || unpoison_time > 1 || big_time > 1) {
		fprintf(stderr, "too slow: %.3f s (unpoison %.3f s, 64 GiB %.3f s)\n", total, unpoison_time, big_time);
		return 1;
	}
	munmap(big, 64ul << 30);
	munmap(a, len);
	return 0;
}
