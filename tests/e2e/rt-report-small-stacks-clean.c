/*
 * Clean twin of rt-report-coroutine-stack, rt-report-thread-64k and
 * rt-report-sigaltstack-8k: the same small stacks (a 16 KiB coroutine, a 64 KiB
 * thread, an 8 KiB signal stack), doing the same allocations and in-bounds
 * accesses, print nothing.
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#include <kasan.h>

#include "e2e.h"

static ucontext_t main_ctx, co_ctx;
static char *obj;

KT_NOINLINE char read_byte(const char *p, long i)
{
	return ((const volatile char *)p)[i];
}

static void work(void)
{
	char *p = malloc(opaque_size(16));

	memset(p, 1, 16);
	read_byte(p, (long)opaque_size(15));
	free(p);
}

static void *thread(void *arg)
{
	(void)arg;
	work();
	return NULL;
}

static void handler(int sig)
{
	(void)sig;
	read_byte(obj, (long)opaque_size(23));
	work();
}

int main(void)
{
	char *co_stack = malloc(16 << 10);
	char *t_stack = mmap(NULL, 64 << 10, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *alt = mmap(NULL, 8 << 10, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	stack_t ss = { .ss_sp = alt, .ss_size = 8 << 10 };
	struct sigaction sa = { .sa_handler = handler, .sa_flags = SA_ONSTACK };
	pthread_attr_t attr;
	pthread_t t;

	getcontext(&co_ctx);
	co_ctx.uc_stack.ss_sp = co_stack;
	co_ctx.uc_stack.ss_size = 16 << 10;
	co_ctx.uc_link = &main_ctx;
	makecontext(&co_ctx, work, 0);
	swapcontext(&main_ctx, &co_ctx);

	pthread_attr_init(&attr);
	pthread_attr_setstack(&attr, t_stack, 64 << 10);
	pthread_create(&t, &attr, thread, NULL);
	pthread_join(t, NULL);

	sigaltstack(&ss, NULL);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	obj = malloc(opaque_size(24));
	raise(SIGUSR1);
	free(obj);
	free(co_stack);
	return kasan_reports_count() != 0;
}
