/*
 * A bug raised by a signal handler that interrupted the same thread's report is
 * queued and printed right after that report, and counted. Deterministic: stderr is
 * a pipe of 4 KiB read by a thread of ours that forwards it; the report (deep
 * traces, more than 4 KiB) fills the pipe and the reporting thread blocks in its
 * write, in the middle of the report; only then does the reader signal it. The
 * handler's bug is a memcpy past an object: the checked memcpy, called while the
 * runtime is active on this thread, must still report it as the program's.
 */
// ENV: KASAN_OPTIONS=kasan_multi_shot
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <kasan.h>

#include "e2e.h"

static char *obj;
static char sink[64];
static pthread_t main_thread;
static int pipe_fds[2], real_stderr;
static volatile sig_atomic_t handled;

KT_NOINLINE void handler_copy(void)
{
	memcpy(opaque_ptr(sink), obj, opaque_size(33));
	kt_barrier();
}

static void handler(int sig)
{
	(void)sig;
	handler_copy();
	handled++;
}

static void *reader(void *arg)
{
	char buf[4096];
	int n = 0;
	long r;

	(void)arg;
	/* Wait until the report has filled the pipe: its writer is blocked. */
	while (ioctl(pipe_fds[0], FIONREAD, &n) == 0 && n < 4096)
		usleep(1000);
	pthread_kill(main_thread, SIGUSR1);
	while ((r = read(pipe_fds[0], buf, sizeof buf)) > 0)
		write(real_stderr, buf, r);
	return NULL;
}

KT_NOINLINE void write_byte(char *p, long i)
{
	((volatile char *)p)[i] = 0;
}

/* Deep recursion, so that the trace and the alloc track make a long report. */
KT_NOINLINE char *deep_alloc(int n)
{
	char *p = n ? deep_alloc(n - 1) : malloc(opaque_size(16));

	kt_barrier();
	return p;
}

KT_NOINLINE void deep_bug(char *p, int n)
{
	if (n)
		deep_bug(p, n - 1);
	else
		write_byte(p, (long)opaque_size(16));
	kt_barrier();
}

int main(void)
{
	struct sigaction sa = { .sa_handler = handler, .sa_flags = SA_RESTART };
	pthread_t t;
	char *p = deep_alloc(70);

	obj = malloc(opaque_size(32));
	KT_ADDR("p", p);
	KT_ADDR("o", obj);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	main_thread = pthread_self();
	real_stderr = dup(2);
	pipe(pipe_fds);
	fcntl(pipe_fds[1], F_SETPIPE_SZ, 4096);
	dup2(pipe_fds[1], 2);
	close(pipe_fds[1]);
	pthread_create(&t, NULL, reader, NULL);
	// CHECK: {^}=================================================================={$}
	// CHECK-NEXT: BUG: KASAN: slab-out-of-bounds in write_byte+0x
	// CHECK-NEXT: {^}Write of size 1 at addr {p+16} by task {comm}/{pid}{$}
	// CHECK: Allocated by task {pid}:
	// CHECK: {^}>{row:p+16}: 
	// CHECK-NEXT: {caret:p+16}
	// CHECK-NEXT: {^} {row:p+144}: 
	// CHECK-NEXT: {^} {row:p+272}: 
	// CHECK-NEXT: {^}=================================================================={$}
	// CHECK-NEXT: {^}=================================================================={$}
	// CHECK-NEXT: BUG: KASAN: slab-out-of-bounds in handler_copy+0x
	// CHECK-NEXT: {^}Read of size 33 at addr {o} by task {comm}/{pid}{$}
	// CHECK: CPU: {*} Tainted: G    B
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: handler_copy+0x
	// CHECK-NEXT: handler+0x
	// CHECK: The buggy address belongs to the object at {o}
	// CHECK: {^}=================================================================={$}
	deep_bug(p, 70);
	kt_barrier();
	/* Back to the real stderr; the reader forwards the rest and ends. */
	dup2(real_stderr, 2);
	pthread_join(t, NULL);
	if (handled == 1 && kasan_reports_count() == 2)
		KT_MARK("2 reports counted");
	// CHECK: {^}2 reports counted{$}
	free(p);
	free(obj);
	return 0;
}
