/*
 * fork while two threads churn vmalloc areas: a populate maps its new shadow pages
 * outside the vmalloc shadow's lock, marked pending, so a fork could copy pages
 * pending for a thread the child does not have. The runtime at 2316e13 hung in the
 * child's first vmalloc on one of them (it waited for ever for a populate nobody
 * would finish): the child's fork handler now gives them back. Each child allocates
 * an area, reads an area allocated before the fork, frees both and purges; nothing is
 * reported, every child exits 0 and the parent ends.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kasan.h>

#include "e2e.h"

static volatile int stop;

static void *churn(void *arg)
{
	(void)arg;
	while (!stop) {
		char *p = vmalloc(opaque_size(3 * 4096 + 100));

		memset(p, 1, 3 * 4096 + 100);
		vfree(p);
	}
	return 0;
}

int main(void)
{
	pthread_t t[2];
	char *keep = vmalloc(opaque_size(1 << 20));
	int bad = 0;

	memset(keep, 7, 1 << 20);
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], 0, churn, 0);
	for (int i = 0; i < 40; i++) {
		pid_t c = fork();

		if (c == 0) {
			char *q = vmalloc(opaque_size(200000));

			memset(q, 2, 200000);
			int ok = keep[12345] == 7 && q[199999] == 2;

			vfree(q);
			vfree(keep);
			vm_unmap_aliases();
			_exit(ok ? 0 : 3);
		}
		int st;

		waitpid(c, &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			bad++;
	}
	stop = 1;
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], 0);
	vfree(keep);
	KT_MARK("forks done");
	// CHECK: forks done
	return bad;
}
