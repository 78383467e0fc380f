/*
 * sw-tags clean: fork with writes on both sides. The tagged heap is one memfd mapped
 * once per tag; after fork the child must have a private copy of it, so each side's
 * writes (to objects allocated before the fork, and to new ones) are invisible to the
 * other. Done twice, the second time from a child (nested fork), with a thread in the
 * parent writing during the fork.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "e2e.h"

static volatile long *counter;
static atomic_int stop;

static void *writer(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop))
		(*counter)++;
	return NULL;
}

/* Forks; the child writes 'c' over `shared` and checks the parent's later write does
 * not reach it; the parent writes 'p' and checks the child's does not reach it. */
static int round_trip(char *shared, size_t n, int depth)
{
	int to_child[2], to_parent[2];

	if (pipe(to_child) || pipe(to_parent))
		return 10;
	memset(shared, 's', n);
	pid_t pid = fork();

	if (pid < 0)
		return 11;
	if (pid == 0) {
		char x;

		if (shared[0] != 's' || shared[n - 1] != 's')
			_exit(20);
		memset(shared, 'c', n);
		char *mine = malloc(opaque_size(n));

		memset(mine, 'm', n);
		if (write(to_parent[1], "w", 1) != 1 || read(to_child[0], &x, 1) != 1)
			_exit(21);
		/* The parent has written 'p' by now. */
		if (shared[0] != 'c' || shared[n - 1] != 'c' || mine[n - 1] != 'm')
			_exit(22);
		free(mine);
		if (depth > 0) {
			char *again = malloc(opaque_size(n));
			int r = round_trip(again, n, depth - 1);

			free(again);
			if (r)
				_exit(30 + r);
		}
		free(shared);
		_exit(0);
	}
	char x;

	if (read(to_parent[0], &x, 1) != 1)
		return 12;
	/* The child has written 'c' by now. */
	if (shared[0] != 's' || shared[n - 1] != 's')
		return 13;
	memset(shared, 'p', n);
	if (write(to_child[1], "w", 1) != 1)
		return 14;
	int status = 0;

	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "child (depth %d) failed: status %d\n", depth, status);
		return 15;
	}
	if (shared[0] != 'p' || shared[n - 1] != 'p')
		return 16;
	close(to_child[0]);
	close(to_child[1]);
	close(to_parent[0]);
	close(to_parent[1]);
	return 0;
}

int main(void)
{
	pthread_t t;
	char *shared = malloc(opaque_size(5000));

	counter = malloc(sizeof *counter);
	*counter = 0;
	pthread_create(&t, NULL, writer, NULL);
	int r = round_trip(shared, 5000, 1);

	atomic_store(&stop, 1);
	pthread_join(t, NULL);
	free((void *)counter);
	free(shared);
	if (r)
		fprintf(stderr, "fork round trip failed: %d\n", r);
	return r;
}
