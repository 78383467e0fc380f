/*
 * A fault that is no KASAN bug while the program's own 8 KiB signal stack is in
 * place (a static array, no guard page below it): the runtime's handler runs there,
 * so it prints only the short line (no names, no call trace: the symbolizer needs far
 * more stack) and never writes below that stack; the process dies of SIGSEGV.
 */
// EXIT: SIGSEGV
#include <signal.h>
#include <sys/mman.h>

#include "e2e.h"

static char altstack[8192];

KT_NOINLINE long load(const long *p)
{
	return *(const volatile long *)p;
}

int main(void)
{
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	long *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	sigaltstack(&ss, NULL);
	KT_ADDR("p", p);
	// CHECK: {^}kasan: SEGV on address {p} (pc {*}) by task {pid}: signal stack too small for the call trace{$}
	// CHECK-NOT: Call Trace
	// REPORTS: 0
	long v = load(opaque_ptr(p));
	kt_barrier();
	KT_MARK("survived the fault");
	// CHECK-NOT: survived the fault
	return (int)v;
}
