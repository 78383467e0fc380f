/*
 * Four threads allocate and free, each forking now and then (the child allocates a
 * little and exits), while a SIGALRM every 50 us lands on any of them and its
 * handler allocates and frees too. The runtime at e4bf870 hung here within seconds,
 * every time (2 CPUs, spinning): the forking thread's fork handler held
 * every quarantine queue and slept on a lock another thread held, and that thread's
 * signal handler spun on a quarantine queue the forking thread held. The quarantine's
 * queues are only ever tried now (a held one sends the free to the next queue), so
 * the program ends in time (TIMEOUT) with nothing reported; a nested allocation that
 * finds its own thread's lock held may fail, as GFP_ATOMIC may (handled: NULL).
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "e2e.h"

// TIMEOUT: 60
// REPORTS: 0

static volatile long ticks, bad;

static void on_alarm(int sig)
{
	(void)sig;
	for (int i = 0; i < 4; i++) {
		unsigned char *p = malloc(16 + i * 24);

		if (p) {
			p[0] = 0x5a;
			bad += p[0] != 0x5a;
			free(p);
		}
	}
	ticks++;
}

static void *worker(void *arg)
{
	(void)arg;
	unsigned char *keep[64] = { 0 };

	for (long i = 0; i < 400000; i++) {
		int k = i & 63;

		free(keep[k]);
		keep[k] = malloc(8 + i % 200);
		if (keep[k])
			keep[k][0] = 1;
		if (i % 50000 == 25000) {
			pid_t child = fork();

			if (child == 0) {
				for (int j = 0; j < 2000; j++)
					free(malloc(32));
				_exit(0);
			}
			if (child > 0)
				waitpid(child, NULL, 0);
		}
	}
	for (int k = 0; k < 64; k++)
		free(keep[k]);
	return NULL;
}

int main(void)
{
	struct sigaction sa;
	struct itimerval every = { { 0, 50 }, { 0, 50 } }, stop = { { 0, 0 }, { 0, 0 } };
	pthread_t t[3];

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &every, NULL);
	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	worker(NULL);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	setitimer(ITIMER_REAL, &stop, NULL);
	if (bad || ticks == 0) {
		fprintf(stderr, "bad=%ld ticks=%ld\n", bad, ticks);
		return 1;
	}
	// CHECK: {^}fork and signals survived{$}
	KT_MARK("fork and signals survived");
	return 0;
}
