/*
 * Clean: longjmp out of a signal handler running on the sigaltstack, back to the thread
 * stack, from frames with instrumented arrays on both stacks (compiler-rt's
 * unpoison-alternate-stack.cpp). __asan_handle_no_return runs on the altstack there: it
 * must clear the whole altstack and the thread's own stack (ASan's rule), not the range
 * from the altstack's stack pointer to the thread stack's top, which is empty or
 * reaches across unrelated memory. Deeper calls then reuse both stacks: no report. On
 * a thread with a user-supplied stack and altstack side by side, as in the original.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "e2e.h"

static sigjmp_buf back;

KT_NOINLINE static void poison_and_jump(int depth, int in_handler)
{
	char blob[100];

	memset(blob, depth, sizeof blob);
	kt_barrier();
	if (depth == 0) {
		if (in_handler)
			siglongjmp(back, 1);
		raise(SIGUSR1);
	}
	poison_and_jump(depth - 1, in_handler);
	kt_barrier();
}

static void handler(int sig)
{
	(void)sig;
	poison_and_jump(6, 1);
}

KT_NOINLINE static long reuse(int depth)
{
	char big[512];

	memset(big, 7, sizeof big);
	if (depth == 0)
		return ((volatile char *)big)[511];
	return big[0] + reuse(depth - 1);
}

static void *thread(void *alt)
{
	struct sigaction sa;
	volatile long sum = 0;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sa.sa_flags = SA_ONSTACK | SA_NODEFER;
	sigaction(SIGUSR1, &sa, NULL);
	if (sigaltstack(alt, NULL) != 0)
		return (void *)1;
	for (int round = 0; round < 4; round++) {
		if (sigsetjmp(back, 1) == 0)
			poison_and_jump(6, 0);
		sum += reuse(20);
	}
	return (void *)(sum == 4 * 21 * 7 ? 0L : 2L);
}

int main(void)
{
	size_t stack_size = 256 << 10, alt_size = 64 << 10;
	char *map = mmap(NULL, stack_size + alt_size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	stack_t alt = { .ss_sp = map + stack_size, .ss_size = alt_size };
	pthread_attr_t attr;
	pthread_t t;
	void *ret;

	pthread_attr_init(&attr);
	pthread_attr_setstack(&attr, map, stack_size);
	pthread_create(&t, &attr, thread, &alt);
	pthread_join(t, &ret);
	// CHECK: {^}thread returned 0{$}
	if (ret == 0)
		KT_MARK("thread returned 0");
	return 0;
}
// REPORTS: 0
