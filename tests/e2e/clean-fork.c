/*
 * Clean twin across fork(): objects allocated before the fork are used and freed in
 * both processes; the child also allocates on its own, runs a thread, and exits.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "e2e.h"

static void *child_thread(void *arg)
{
	char *p = malloc(100);

	memcpy(p, arg, 100);
	free(p);
	return NULL;
}

int main(void)
{
	char *shared = malloc(opaque_size(100));

	memset(shared, 's', 100);
	for (int round = 0; round < 3; round++) {
		pid_t pid = fork();

		if (pid < 0)
			return 2;
		if (pid == 0) {
			pthread_t t;

			for (int i = 0; i < 1000; i++) {
				char *p = malloc((size_t)i + 1);

				memset(p, i, (size_t)i + 1);
				free(p);
			}
			pthread_create(&t, NULL, child_thread, shared);
			pthread_join(t, NULL);
			if (shared[99] != 's')
				_exit(3);
			free(shared);
			exit(0);
		}
		int status = 0;

		waitpid(pid, &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "child failed: status %d\n", status);
			return 1;
		}
		char *p = malloc(opaque_size(64));

		memset(p, 'p', 64);
		free(p);
	}
	if (shared[0] != 's')
		return 4;
	free(shared);
	return 0;
}
