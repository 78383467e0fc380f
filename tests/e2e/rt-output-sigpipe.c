/*
 * Standard error is a pipe whose reader is gone: the report's write fails with
 * EPIPE, and the SIGPIPE it raises is ours, not the program's: the program is not
 * killed (default SIGPIPE action), goes on, and a SIGPIPE of its own later still
 * reaches its handler. The report is counted.
 */
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <kasan.h>

#include "e2e.h"

static volatile sig_atomic_t pipes;

KT_NOINLINE void write_byte(char *p, long i)
{
	((volatile char *)p)[i] = 0;
}

static void on_pipe(int sig)
{
	(void)sig;
	pipes++;
}

int main(void)
{
	char *p = malloc(opaque_size(16));
	int fds[2], saved = dup(2);

	pipe(fds);
	close(fds[0]);
	dup2(fds[1], 2);
	close(fds[1]);
	write_byte(p, (long)opaque_size(16));
	kt_barrier();
	dup2(saved, 2);
	if (kasan_reports_count() == 1)
		KT_MARK("alive after the report");
	else
		KT_MARK("wrong count");
	// CHECK: {^}alive after the report{$}
	/* The program's own SIGPIPE still arrives. */
	signal(SIGPIPE, on_pipe);
	pipe(fds);
	close(fds[0]);
	write(fds[1], "x", 1);
	if (pipes == 1)
		KT_MARK("own SIGPIPE delivered");
	else
		KT_MARK("own SIGPIPE lost");
	// CHECK-NEXT: {^}own SIGPIPE delivered{$}
	// REPORTS: 0
	free(p);
	return 0;
}
