/*
 * Clean twin under concurrency: 4 threads allocating, copying, reallocating and
 * freeing in loops (objects also handed from one thread to another), with thread-local
 * and stack buffers.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

enum { THREADS = 4, ROUNDS = 3000 };

static _Thread_local char tls_buf[64];
static char *handoff[THREADS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int failures;

static void *worker(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	unsigned seed = id * 7919 + 1;
	char *keep[16] = { 0 };

	for (int r = 0; r < ROUNDS; r++) {
		seed = seed * 1103515245u + 12345u;
		size_t n = 1 + (seed >> 8) % 2000;
		char *p = malloc(n);
		char local[32];

		memset(p, (int)id, n);
		memcpy(local, p, n < sizeof local ? n : sizeof local);
		memcpy(tls_buf, local, sizeof tls_buf < sizeof local ? sizeof tls_buf : sizeof local);
		char *q = realloc(p, n * 2);

		if (q[n - 1] != (char)id)
			__atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
		memset(q + n, 0, n);
		int slot = (int)(seed % 16);

		free(keep[slot]);
		keep[slot] = q;

		/* Hand an object to the next thread, take the one left for us. */
		pthread_mutex_lock(&lock);
		char *mine = handoff[id];

		handoff[id] = NULL;
		if (!handoff[(id + 1) % THREADS]) {
			char *gift = malloc(48);

			memset(gift, 'g', 48);
			handoff[(id + 1) % THREADS] = gift;
		}
		pthread_mutex_unlock(&lock);
		if (mine) {
			if (mine[47] != 'g')
				__atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
			free(mine);
		}
	}
	for (int i = 0; i < 16; i++)
		free(keep[i]);
	return NULL;
}

int main(void)
{
	pthread_t t[THREADS];

	for (unsigned i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)i);
	for (unsigned i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	for (unsigned i = 0; i < THREADS; i++)
		free(handoff[i]);
	if (failures)
		fprintf(stderr, "%d data failures\n", failures);
	return failures != 0;
}
