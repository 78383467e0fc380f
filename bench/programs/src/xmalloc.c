/*
 * xmalloc.c - a producer/consumer allocation benchmark (our own code, modelled on
 * xmalloc-test of mimalloc-bench: objects are allocated by some threads and freed
 * by others).
 *
 *   xmalloc THREADS TOTAL_OBJECTS BATCH MIN MAX
 *
 * THREADS >= 2: THREADS/2 producers allocate batches of BATCH objects of random
 * sizes in [MIN, MAX], write them and push each batch on a shared bounded queue;
 * the other threads pop batches and free every object (reading it first). So every
 * object is freed by another thread than its allocator. THREADS = 1: the one thread
 * produces a batch, then consumes it. TOTAL_OBJECTS is split over the producers.
 * Prints the objects and bytes that went through (the same for every build).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QCAP 64

struct batch {
	int n;
	void **obj;
	size_t *sz;
};

static struct batch *queue[QCAP];
static int qhead, qlen, producers_left;
static pthread_mutex_t qlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t qnotfull = PTHREAD_COND_INITIALIZER, qnotempty = PTHREAD_COND_INITIALIZER;
static long per_producer;
static int batch_n;
static size_t smin, smax;
static unsigned long long consumed_bytes[256], consumed_objs[256];

static inline uint64_t xs(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static struct batch *produce(uint64_t *rng, int n)
{
	struct batch *b = malloc(sizeof *b);
	b->n = n;
	b->obj = malloc(sizeof(void *) * (size_t)n);
	b->sz = malloc(sizeof(size_t) * (size_t)n);
	for (int i = 0; i < n; i++) {
		size_t s = smin + (size_t)(xs(rng) % (smax - smin + 1));
		char *p = malloc(s);
		if (!p) {
			perror("malloc");
			exit(1);
		}
		memset(p, (int)(s & 0xff), s < 64 ? s : 64);
		b->obj[i] = p;
		b->sz[i] = s;
	}
	return b;
}

static void consume(struct batch *b, int id)
{
	for (int i = 0; i < b->n; i++) {
		unsigned char *p = b->obj[i];
		consumed_bytes[id] += b->sz[i] + (p[0] != (unsigned char)(b->sz[i] & 0xff));
		consumed_objs[id]++;
		free(p);
	}
	free(b->obj);
	free(b->sz);
	free(b);
}

static void *producer(void *argp)
{
	int id = (int)(intptr_t)argp;
	uint64_t rng = 0x2545F4914F6CDD1DULL * (uint64_t)(id + 7);
	for (long done = 0; done < per_producer; done += batch_n) {
		int n = (int)(per_producer - done < batch_n ? per_producer - done : batch_n);
		struct batch *b = produce(&rng, n);
		pthread_mutex_lock(&qlock);
		while (qlen == QCAP)
			pthread_cond_wait(&qnotfull, &qlock);
		queue[(qhead + qlen) % QCAP] = b;
		qlen++;
		pthread_cond_signal(&qnotempty);
		pthread_mutex_unlock(&qlock);
	}
	pthread_mutex_lock(&qlock);
	producers_left--;
	pthread_cond_broadcast(&qnotempty);
	pthread_mutex_unlock(&qlock);
	return NULL;
}

static void *consumer(void *argp)
{
	int id = (int)(intptr_t)argp;
	for (;;) {
		pthread_mutex_lock(&qlock);
		while (qlen == 0 && producers_left > 0)
			pthread_cond_wait(&qnotempty, &qlock);
		if (qlen == 0) {
			pthread_mutex_unlock(&qlock);
			return NULL;
		}
		struct batch *b = queue[qhead];
		qhead = (qhead + 1) % QCAP;
		qlen--;
		pthread_cond_signal(&qnotfull);
		pthread_mutex_unlock(&qlock);
		consume(b, id);
	}
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: xmalloc THREADS TOTAL_OBJECTS BATCH MIN MAX\n");
		return 2;
	}
	int nthreads = atoi(argv[1]);
	long total = atol(argv[2]);
	batch_n = atoi(argv[3]);
	smin = (size_t)atol(argv[4]);
	smax = (size_t)atol(argv[5]);
	if (nthreads < 1 || nthreads > 256 || batch_n < 1 || smin < 1 || smax < smin) {
		fprintf(stderr, "xmalloc: bad arguments\n");
		return 2;
	}
	if (nthreads == 1) {
		uint64_t rng = 0x2545F4914F6CDD1DULL * 7;
		for (long done = 0; done < total; done += batch_n) {
			int n = (int)(total - done < batch_n ? total - done : batch_n);
			consume(produce(&rng, n), 0);
		}
	} else {
		int np = nthreads / 2, nc = nthreads - np;
		per_producer = total / np;
		producers_left = np;
		pthread_t th[256];
		for (int i = 0; i < np; i++)
			pthread_create(&th[i], NULL, producer, (void *)(intptr_t)i);
		for (int i = 0; i < nc; i++)
			pthread_create(&th[np + i], NULL, consumer, (void *)(intptr_t)i);
		for (int i = 0; i < nthreads; i++)
			pthread_join(th[i], NULL);
	}
	unsigned long long objs = 0, bytes = 0;
	for (int i = 0; i < 256; i++) {
		objs += consumed_objs[i];
		bytes += consumed_bytes[i];
	}
	printf("xmalloc threads=%d objects=%llu bytes=%llu\n", nthreads, objs, bytes);
	return 0;
}
