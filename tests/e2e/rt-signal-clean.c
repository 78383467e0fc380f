/*
 * The clean twin of the rt-signal-* and rt-stack-overflow-* tests: a handler the
 * program installs after start-up replaces the runtime's (raise reaches it, as
 * without the runtime), and putting the old action back re-arms the runtime's; a
 * sigaltstack the program sets up from its .preinit_array is kept, and so is one a
 * thread sets up itself; deep recursion that fits its stack; many threads: silent.
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "e2e.h"

#ifdef __clang__
#define NO_KASAN __attribute__((no_sanitize("kernel-address")))
#else
#define NO_KASAN __attribute__((no_sanitize_address))
#endif

static char main_altstack[64 << 10];

/* Runs from the .preinit_array, right after the runtime's entry: not instrumented. */
NO_KASAN static void early(void)
{
	static stack_t ss;

	ss.ss_sp = main_altstack;
	ss.ss_size = sizeof(main_altstack);
	sigaltstack(&ss, NULL);
}

__attribute__((section(".preinit_array"), used)) static void (*preinit)(void) = early;

static volatile int handled;

static void on_segv(int sig)
{
	(void)sig;
	handled++;
}

KT_NOINLINE int recurse(int n)
{
	volatile char buf[200];

	buf[n % 200] = (char)n;
	if (n == 0)
		return buf[0];
	int r = recurse(n - 1);
	return r + buf[(n * 7) % 200];
}

static void *thread(void *arg)
{
	stack_t ss, now;
	void *mine = malloc(64 << 10);
	int bad = 0;

	ss.ss_sp = mine;
	ss.ss_size = 64 << 10;
	ss.ss_flags = 0;
	bad |= sigaltstack(&ss, NULL) != 0;
	bad |= sigaltstack(NULL, &now) != 0 || now.ss_sp != mine;
	recurse((int)(long)arg);
	ss.ss_flags = SS_DISABLE;
	sigaltstack(&ss, NULL);
	free(mine);
	return (void *)(long)bad;
}

int main(void)
{
	struct sigaction sa, old;
	stack_t now;
	int bad = 0;

	bad |= sigaltstack(NULL, &now) != 0 || now.ss_sp != main_altstack;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_segv;
	sigaction(SIGSEGV, &sa, &old);
	raise(SIGSEGV);
	bad |= handled != 1;
	sigaction(SIGSEGV, &old, NULL);
	bad |= !(old.sa_flags & SA_SIGINFO);
	bad |= recurse((int)opaque_size(20000)) == 12345;
	for (int i = 0; i < 20; i++) {
		pthread_t t;
		void *r;

		pthread_create(&t, NULL, thread, opaque_ptr((void *)(long)(1000 * i)));
		pthread_join(t, &r);
		bad |= r != NULL;
	}
	KT_NUM("bad", bad);
	return bad;
}
