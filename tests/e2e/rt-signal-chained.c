/*
 * A program that installs its own SIGSEGV handler from its .preinit_array. kasan cc
 * links the runtime first, so the runtime's entry has already run and the program's
 * handler replaces the runtime's, as one installed in main does (signals.rs: "a
 * program that installs its own handler after start-up simply replaces ours").
 * Signals the program sends itself (raise, kill, pthread_kill, sigqueue, and raise on
 * a thread running on a small signal stack of its own) reach that handler and the
 * program goes on. A later wild access: outline, the runtime's check reports it, then
 * the load faults; inline, the compiler's shadow load faults straight into the
 * program's handler (the runtime's fault report needs its handler), which ends the
 * program with exit status 3. (A handler installed before the runtime started, as
 * with LD_PRELOAD=libkasan.so, is chained from the runtime's instead.)
 */
// EXIT: 3
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "e2e.h"

static volatile int sent;

static void on_segv(int sig, siginfo_t *info, void *uc)
{
	(void)sig;
	(void)uc;
	if (info->si_code <= 0) {
		sent++;
		return;
	}
	static const char msg[] = "program handler: fault\n";
	write(2, msg, sizeof(msg) - 1);
	_exit(3);
}

#ifdef __clang__
#define NO_KASAN __attribute__((no_sanitize("kernel-address")))
#else
#define NO_KASAN __attribute__((no_sanitize_address))
#endif

/* Not instrumented, and calls nothing of the runtime's (a static, zeroed sigaction
 * rather than memset): with another link order it would run before the runtime. */
static struct sigaction sa;

NO_KASAN static void install(void)
{
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
}

__attribute__((section(".preinit_array"), used)) static void (*preinit)(void) = install;

/* A thread with a small signal stack of its own (8 KiB, SIGSTKSZ): the runtime's handler
 * runs on it to forward the signal, so its path for sent signals must stay small. */
static void *small_altstack(void *arg)
{
	static char stack[8192];
	stack_t ss = { .ss_sp = stack, .ss_size = sizeof(stack) };

	(void)arg;
	sigaltstack(&ss, NULL);
	raise(SIGSEGV);
	return NULL;
}

KT_NOINLINE long load(const long *p)
{
	return *(const volatile long *)p;
}

int main(void)
{
	union sigval v = { .sival_int = 7 };

	raise(SIGSEGV);
	kill(getpid(), SIGSEGV);
	pthread_kill(pthread_self(), SIGSEGV);
	sigqueue(getpid(), SIGSEGV, v);

	pthread_t t;

	pthread_create(&t, NULL, small_altstack, NULL);
	pthread_join(t, NULL);
	KT_NUM("sent", sent);
	if (sent != 5)
		return 1;
	KT_MARK("program went on");
	// CHECK: {^}program went on{$}
	// CHECK(outline): BUG: KASAN: wild-memory-access in load+0x
	// CHECK-NEXT(outline): {^}Read of size 8 at addr dead000000000000 by task {comm}/{pid}{$}
	// CHECK-NOT(inline): KASAN:
	// CHECK(outline): Call Trace:
	// CHECK-NEXT(outline):  <TASK>
	// CHECK-NEXT(outline): {^} load+0x{*} {*}rt-signal-chained.c:
	// CHECK-NEXT(outline): {^} main+0x
	// CHECK: {^}program handler: fault{$}
	// CHECK-NOT: kasan: SEGV
	// REPORTS(outline): 1
	// REPORTS(inline): 0
	long r = load(opaque_ptr((void *)0xdead000000000000UL));
	kt_barrier();
	return (int)r;
}
