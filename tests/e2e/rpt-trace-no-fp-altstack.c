/*
 * rpt-trace-no-fp.c on a signal stack: a bug in a qsort callback inside a SIGUSR1
 * handler running on a 256 KiB sigaltstack the program set up. The report's trace is
 * unwound by .eh_frame there too (the signal stack's own bounds say how much room the
 * walk has), so the handler is below qsort. The report stops at the signal trampoline,
 * as every trace from a handler does.
 */
// ENV: KASAN_OPTIONS=kasan_multi_shot
// REPORTS: 1
#include <signal.h>
#include <stdlib.h>

#include "e2e.h"

int table[10];
static volatile int past = 10;
static volatile int armed;

static int compare(const void *a, const void *b)
{
	if (armed) {
		armed = 0;
		table[past] = 1;
	}
	return *(const char *)a - *(const char *)b;
}

KT_NOINLINE static void sort_in_handler(void)
{
	char a[4] = { 4, 3, 2, 1 };

	armed = 1;
	qsort(a, opaque_size(4), 1, compare);
	kt_barrier();
}

static void on_usr1(int sig)
{
	(void)sig;
	sort_in_handler();
	kt_barrier(); /* no tail call: the handler's frame stays */
}

static char altstack[256 << 10];

int main(void)
{
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_ONSTACK };

	sigaltstack(&ss, NULL);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	// CHECK: BUG: KASAN: global-out-of-bounds in compare+0x
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} compare+0x
	// CHECK: {^} qsort_r+0x
	// CHECK-NEXT: {^} sort_in_handler+0x
	// CHECK-NEXT: {^} on_usr1+0x
	// CHECK-NEXT:  </TASK>
	raise(SIGUSR1);
	// CHECK: {^}done{$}
	KT_MARK("done");
	return table[0] & 0;
}
