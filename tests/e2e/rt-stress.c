/*
 * The runtime under a hostile load, bounded to a few seconds: four worker threads
 * allocate (malloc, kmalloc, a shared kmem_cache, page blocks), hand objects to each
 * other so that most frees happen on another thread, create and destroy caches of
 * their own, raise bugs (one slab-out-of-bounds read each round) and fork children
 * that allocate and raise one bug of their own; a fifth thread sends each worker
 * signals whose handler allocates with GFP_ATOMIC and raises a global-out-of-bounds
 * bug, often while the worker is inside the allocator or printing a report.
 *
 * Every bug raised is counted where it is raised, so the totals are exact: the
 * process's kasan_reports_count() must equal the bugs it raised itself (the
 * children's are theirs), and stderr must hold exactly the reports of all of them.
 * Every object carries a pattern written by its allocator and checked by whoever
 * frees it: a live object changed by the runtime is a failure (exit 3).
 */
// RUN: -lpthread
// ENV: KASAN_OPTIONS=kasan_multi_shot
// TIMEOUT: 60
// REPORTS: 362
// CHECK-NOT: kasan::
// CHECK-NOT: panicked
// CHECK: rt-stress: all checks passed
#include <kasan.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "e2e.h"

#define WORKERS 4
#define ROUNDS 40          /* per worker; one slab bug per round */
#define OPS 400            /* allocations per round */
#define FORKS 5            /* per worker; one bug per child */
#define SIGNALS 25         /* per worker; one global bug per signal */
#define SLOTS 256

#define CACHE_BUGS 20      /* per worker: a use-after-free in a private cache */
/* Reports: workers 4 * (40 + 20 + 25) = 340 and 2 in main here, 4 * 5 = 20 in the
 * children: 362 (the REPORTS line). */

struct obj {
	unsigned magic;
	unsigned owner;
	size_t size;
	int kind; /* 0 malloc, 1 kmalloc, 2 shared cache, 3 pages */
	unsigned char data[];
};

static struct kmem_cache *shared_cache;
static _Atomic(struct obj *) exchange[SLOTS];
static atomic_long bugs_here;      /* reports this process must have printed */
static atomic_long handled[WORKERS];
static atomic_int corrupt;
static pthread_t workers[WORKERS];
static char global_buf[24];
static atomic_int signals_done;
static atomic_int started;
static _Thread_local int my_id = -1;

#define SHARED_SIZE 96

static unsigned char pattern(const struct obj *o, size_t i)
{
	return (unsigned char)(o->owner * 31 + i * 7 + o->size);
}

static struct obj *make(unsigned owner, unsigned x)
{
	struct obj *o;
	int kind = x % 4;
	size_t size;

	switch (kind) {
	case 0:
		size = x % 700 + 1;
		o = malloc(sizeof *o + size);
		break;
	case 1:
		size = x % 3000 + 1;
		o = kmalloc(sizeof *o + size, GFP_KERNEL);
		break;
	case 2:
		size = SHARED_SIZE - sizeof *o;
		o = kmem_cache_alloc(shared_cache, GFP_KERNEL);
		break;
	default:
		size = 4096 - sizeof *o;
		o = (struct obj *)__get_free_pages(GFP_KERNEL, 0);
		break;
	}
	if (!o)
		return NULL;
	o->magic = 0x5a5a1234;
	o->owner = owner;
	o->size = size;
	o->kind = kind;
	for (size_t i = 0; i < size; i++)
		o->data[i] = pattern(o, i);
	return o;
}

static void destroy(struct obj *o)
{
	if (o->magic != 0x5a5a1234) {
		atomic_store(&corrupt, 1);
		return;
	}
	for (size_t i = 0; i < o->size; i++)
		if (o->data[i] != pattern(o, i)) {
			atomic_store(&corrupt, 1);
			break;
		}
	switch (o->kind) {
	case 0: free(o); break;
	case 1: kfree(o); break;
	case 2: kmem_cache_free(shared_cache, o); break;
	default: free_pages((unsigned long)o, 0); break;
	}
}

KT_NOINLINE char read_past(const char *p, size_t i)
{
	return ((const volatile char *)p)[i];
}

/* A slab-out-of-bounds read one byte past a 13-byte object. */
static void slab_bug(void)
{
	char *p = kmalloc(opaque_size(13), GFP_KERNEL);

	atomic_fetch_add(&bugs_here, 1);
	read_past(p, opaque_size(13));
	kt_barrier();
	kfree(p);
}

/* Each signal: an atomic allocation (which may fail, as GFP_ATOMIC may) and a
 * global-out-of-bounds read. */
static void on_signal(int sig)
{
	int saved = errno;
	(void)sig;
	char *p = kmalloc(opaque_size(40), GFP_ATOMIC);

	if (p) {
		memset(p, 0x11, 40);
		kfree(p);
	}
	atomic_fetch_add(&bugs_here, 1);
	read_past(global_buf, opaque_size(sizeof global_buf));
	kt_barrier();
	if (my_id >= 0)
		atomic_fetch_add(&handled[my_id], 1);
	errno = saved;
}

static void child_work(void)
{
	char *p = malloc(opaque_size(100));

	memset(p, 1, 100);
	free(p);
	char *q = kmalloc(opaque_size(13), GFP_KERNEL);
	read_past(q, opaque_size(13)); /* the child's one bug */
	kt_barrier();
	kfree(q);
	_exit(0);
}

static void cache_cycle(unsigned id, int round)
{
	char name[32];
	void *objs[10];

	snprintf(name, sizeof name, "w%u-r%d", id, round);
	struct kmem_cache *c = kmem_cache_create(name, 40 + round, 0, 0, NULL);
	if (!c) {
		atomic_store(&corrupt, 2);
		return;
	}
	for (int i = 0; i < 10; i++) {
		objs[i] = kmem_cache_alloc(c, GFP_KERNEL);
		memset(objs[i], i, 40 + round);
	}
	for (int i = 0; i < 10; i++)
		kmem_cache_free(c, objs[i]);
	if (round % (ROUNDS / CACHE_BUGS) == 0) {
		/* Use after free of an object of the cache, before the cache goes. */
		atomic_fetch_add(&bugs_here, 1);
		read_past(objs[3], opaque_size(0));
		kt_barrier();
	}
	kmem_cache_destroy(c);
}

static void *worker(void *arg)
{
	unsigned id = (unsigned)(long)arg;
	unsigned x = id * 2654435761u + 1;
	int forks = 0;

	my_id = (int)id;
	atomic_fetch_add(&started, 1);
	for (int round = 0; round < ROUNDS; round++) {
		for (int op = 0; op < OPS; op++) {
			x = x * 1103515245 + 12345;
			struct obj *o = make(id, x >> 4);
			if (!o) {
				atomic_store(&corrupt, 4);
				continue;
			}
			struct obj *old = atomic_exchange(&exchange[(x >> 9) % SLOTS], o);
			if (old)
				destroy(old);
		}
		slab_bug();
		cache_cycle(id, round);
		if (forks < FORKS && round % (ROUNDS / FORKS) == 1) {
			pid_t pid = fork();
			if (pid == 0)
				child_work();
			int status = 0;
			if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
			    WEXITSTATUS(status) != 0)
				atomic_store(&corrupt, 5);
			forks++;
		}
	}
	/* Stay alive (and allocating) until every signal has been handled. */
	while (!atomic_load(&signals_done)) {
		struct obj *o = make(id, x++);
		if (o)
			destroy(o);
		usleep(100);
	}
	return NULL;
}

/* Sends each worker SIGNALS signals, one at a time, waiting for each to be handled,
 * so that the number of handler runs is exact. */
static void *signaller(void *arg)
{
	(void)arg;
	while (atomic_load(&started) < WORKERS)
		usleep(100);
	for (int n = 0; n < SIGNALS; n++) {
		for (int w = 0; w < WORKERS; w++) {
			long before = atomic_load(&handled[w]);
			pthread_kill(workers[w], SIGUSR1);
			while (atomic_load(&handled[w]) == before)
				usleep(200);
			usleep(300);
		}
	}
	atomic_store(&signals_done, 1);
	return NULL;
}

int main(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);

	shared_cache = kmem_cache_create("rt-stress", SHARED_SIZE, 0, 0, NULL);
	for (long i = 0; i < WORKERS; i++)
		pthread_create(&workers[i], NULL, worker, (void *)i);
	pthread_t sig;
	pthread_create(&sig, NULL, signaller, NULL);
	pthread_join(sig, NULL);
	for (int i = 0; i < WORKERS; i++)
		pthread_join(workers[i], NULL);
	for (int i = 0; i < SLOTS; i++) {
		struct obj *o = atomic_exchange(&exchange[i], NULL);
		if (o)
			destroy(o);
	}
	kmem_cache_destroy(shared_cache);
	/* Two bugs in main after all that: the runtime still reports exactly. */
	slab_bug();
	slab_bug();

	long want = atomic_load(&bugs_here);
	long got = kasan_reports_count();
	printf("bugs raised here %ld, reported here %ld, corrupt %d\n", want, got,
	       atomic_load(&corrupt));
	if (atomic_load(&corrupt))
		return 3;
	if (got != want || want != WORKERS * (ROUNDS + SIGNALS + CACHE_BUGS) + 2)
		return 4;
	KT_MARK("rt-stress: all checks passed");
	return 0;
}
