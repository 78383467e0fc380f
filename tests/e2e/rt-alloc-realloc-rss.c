/*
 * Free page runs merge with their free neighbours: a vector grown by realloc to
 * 512 MiB (doubling) and freed, ten times over, reuses the same memory, so the
 * resident set stays near one round's peak (it used to grow by about 70 MiB every
 * round, as freed runs were never merged and each round took fresh arena and
 * shadow: 163 MiB after the first round, 1482 MiB after twenty). The program measures its RSS in /proc/self/statm after each round and
 * fails if it ever passes the bound.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "e2e.h"

// TIMEOUT: 90

static long rss_mib(void)
{
	long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f || fscanf(f, "%ld %ld", &size, &resident) != 2)
		return -1;
	fclose(f);
	return resident * sysconf(_SC_PAGESIZE) >> 20;
}

int main(void)
{
	long first = 0, max = 0;

	for (int round = 0; round < 10; round++) {
		char *v = NULL;
		size_t n = 0;

		for (size_t size = 4096; size <= (512ul << 20); size *= 2) {
			char *w = realloc(v, size);

			if (!w) {
				fprintf(stderr, "realloc(%zu) failed\n", size);
				return 1;
			}
			/* Write the new half's pages, as a vector being filled does. */
			for (size_t i = n; i < size; i += 4096)
				w[i] = (char)round;
			w[size - 1] = (char)round;
			if (n && (w[(n / 2) & ~4095ul] != (char)round || w[n - 1] != (char)round)) {
				fprintf(stderr, "contents lost at %zu\n", size);
				return 1;
			}
			v = w;
			n = size;
		}
		free(v);
		long rss = rss_mib();
		if (round == 0)
			first = rss;
		if (rss > max)
			max = rss;
		printf("round %d rss %ld MiB\n", round, rss);
	}
	printf("first %ld max %ld MiB\n", first, max);
	/* One round's peak is the 512 MiB vector, its 256 MiB predecessor and their
	 * shadow; the bound leaves room for the quarantine and the runtime. */
	if (max > 1200 || max > first + 200) {
		fprintf(stderr, "RSS grew: first round %ld MiB, max %ld MiB\n", first, max);
		return 1;
	}
	KT_MARK("rss bounded");
	// CHECK-NOT: RSS grew
	return 0;
}
