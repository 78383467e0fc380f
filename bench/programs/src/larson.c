/*
 * larson.c - a larson-style server allocation benchmark (our own code, modelled on
 * the "larson" program of mimalloc-bench: Larson and Krishnan's server workload).
 *
 *   larson THREADS TOTAL_OPS SLOTS MIN MAX SEED
 *
 * Every thread owns an array of SLOTS live blocks of random sizes in [MIN, MAX].
 * One operation frees a random slot's block and allocates a new one of a random
 * size into it (writing its first and last bytes). The work is cut into epochs;
 * between two epochs the threads pass their arrays on (thread i takes thread
 * i+1's), so most blocks are freed by another thread than the one that allocated
 * them. TOTAL_OPS is split evenly over the threads: the wall time shows how the
 * allocator scales with threads at constant work. Prints a checksum of the sizes
 * (the same for every build) and the total operations.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EPOCHS 16

struct arr {
	char **p;
	size_t *sz;
};

static int nthreads;
static long ops_per_epoch;
static int slots;
static size_t smin, smax;
static struct arr *arrays;
static pthread_barrier_t barrier;
static unsigned long long checksums[256];

static inline uint64_t xs(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static void *worker(void *argp)
{
	int id = (int)(intptr_t)argp;
	uint64_t rng = 0x9e3779b97f4a7c15ULL * (uint64_t)(id + 1) + (uint64_t)smax;
	unsigned long long sum = 0;
	for (int e = 0; e < EPOCHS; e++) {
		struct arr *a = &arrays[(id + e) % nthreads];
		for (long i = 0; i < ops_per_epoch; i++) {
			int k = (int)(xs(&rng) % (uint64_t)slots);
			size_t n = smin + (size_t)(xs(&rng) % (smax - smin + 1));
			free(a->p[k]);
			char *q = malloc(n);
			if (!q) {
				perror("malloc");
				exit(1);
			}
			q[0] = (char)n;
			q[n - 1] = (char)k;
			a->p[k] = q;
			a->sz[k] = n;
			sum += n;
		}
		pthread_barrier_wait(&barrier);
	}
	checksums[id] = sum;
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 7) {
		fprintf(stderr, "usage: larson THREADS TOTAL_OPS SLOTS MIN MAX SEED\n");
		return 2;
	}
	nthreads = atoi(argv[1]);
	long total = atol(argv[2]);
	slots = atoi(argv[3]);
	smin = (size_t)atol(argv[4]);
	smax = (size_t)atol(argv[5]);
	uint64_t seed = (uint64_t)atoll(argv[6]) | 1;
	if (nthreads < 1 || nthreads > 256 || slots < 1 || smin < 1 || smax < smin) {
		fprintf(stderr, "larson: bad arguments\n");
		return 2;
	}
	ops_per_epoch = total / nthreads / EPOCHS;
	arrays = calloc((size_t)nthreads, sizeof *arrays);
	unsigned long long initial = 0;
	for (int t = 0; t < nthreads; t++) {
		arrays[t].p = calloc((size_t)slots, sizeof(char *));
		arrays[t].sz = calloc((size_t)slots, sizeof(size_t));
		for (int k = 0; k < slots; k++) {
			size_t n = smin + (size_t)(xs(&seed) % (smax - smin + 1));
			arrays[t].p[k] = malloc(n);
			memset(arrays[t].p[k], 1, n);
			arrays[t].sz[k] = n;
			initial += n;
		}
	}
	pthread_barrier_init(&barrier, NULL, (unsigned)nthreads);
	pthread_t th[256];
	for (int t = 0; t < nthreads; t++)
		pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t);
	unsigned long long sum = initial;
	for (int t = 0; t < nthreads; t++) {
		pthread_join(th[t], NULL);
		sum += checksums[t];
	}
	unsigned long long live = 0;
	for (int t = 0; t < nthreads; t++) {
		for (int k = 0; k < slots; k++) {
			live += arrays[t].sz[k];
			free(arrays[t].p[k]);
		}
		free(arrays[t].p);
		free(arrays[t].sz);
	}
	free(arrays);
	printf("larson threads=%d ops=%ld bytes=%llu live=%llu\n", nthreads,
	       ops_per_epoch * EPOCHS * nthreads, sum, live);
	return 0;
}
