/*
 * access.c - the cost of one checked 8-byte access in a hot L1 loop.
 *
 *   access load|store N
 *
 * Reads (or writes) N 8-byte words of a 4 KiB heap buffer, cycling through it, and
 * prints "ns_per_op=<x>". The empty asm in the loop keeps every access scalar and
 * separate (no vectorisation, no store merging), so an instrumented build makes one
 * check per iteration: an `__asan_{load,store}8_noabort` call (outline) or an
 * open-coded shadow test (inline).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WORDS 512 /* 4 KiB: stays in L1 */

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

__attribute__((noinline)) static unsigned long run_loads(unsigned long *buf, long n)
{
	unsigned long sum = 0;
	for (long i = 0; i < n; i++) {
		sum += buf[i & (WORDS - 1)];
		__asm__ volatile("" : "+r"(sum));
	}
	return sum;
}

__attribute__((noinline)) static void run_stores(unsigned long *buf, long n)
{
	for (long i = 0; i < n; i++) {
		buf[i & (WORDS - 1)] = (unsigned long)i;
		__asm__ volatile("" ::: "memory");
	}
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s load|store N\n", argv[0]);
		return 2;
	}
	int store = strcmp(argv[1], "store") == 0;
	long n = atol(argv[2]);
	unsigned long *buf = malloc(WORDS * sizeof *buf);
	if (!buf)
		return 1;
	for (int i = 0; i < WORDS; i++)
		buf[i] = (unsigned long)i;
	/* warm-up: page in, fill L1, let the clock settle */
	unsigned long sink = run_loads(buf, 1 << 20);
	run_stores(buf, 1 << 20);

	double t0 = now_ns();
	if (store)
		run_stores(buf, n);
	else
		sink += run_loads(buf, n);
	double t1 = now_ns();

	printf("ns_per_op=%.4f sink=%lu\n", (t1 - t0) / n, sink + buf[7]);
	free(buf);
	return 0;
}
