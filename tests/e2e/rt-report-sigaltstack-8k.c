/*
 * A bug hit in a signal handler running on an 8 KiB sigaltstack is reported once,
 * exactly, and the handler returns: the canary words right below and above the
 * signal stack are intact. (The report once needed ~62 KiB and looped forever here:
 * report, the runtime's own memmove, check, report.)
 */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "e2e.h"

#define STACK (8 << 10)
#define CANARY 4096
#define MAGIC 0x6b6173616e21c0deULL

static char *obj;
static volatile sig_atomic_t handled;

KT_NOINLINE char read_byte(const char *p, long i)
{
	return ((const volatile char *)p)[i];
}

static void handler(int sig)
{
	(void)sig;
	read_byte(obj, (long)opaque_size(24));
	kt_barrier();
	handled = 1;
}

int main(void)
{
	size_t bytes = STACK + 2 * CANARY;
	uint64_t *block = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t *above = block + (CANARY + STACK) / 8;
	stack_t ss = { .ss_sp = (char *)block + CANARY, .ss_size = STACK };
	struct sigaction sa = { .sa_handler = handler, .sa_flags = SA_ONSTACK };
	int intact = 1;

	for (size_t i = 0; i < bytes / 8; i++)
		block[i] = MAGIC;
	sigaltstack(&ss, NULL);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	obj = malloc(opaque_size(24));
	KT_ADDR("p", obj);
	// CHECK: ==================================================================
	// CHECK-NEXT: BUG: KASAN: slab-out-of-bounds in read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+24} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT:  read_byte+0x
	// CHECK-NEXT:  handler+0x
	// CHECK: The buggy address belongs to the object at {p}
	// CHECK-NEXT:  which belongs to the cache kmalloc-32 of size 32
	// CHECK: {^}>{row:p+24}: 
	// CHECK-NEXT: {caret:p+24}
	// CHECK: {^}=================================================================={$}
	raise(SIGUSR1);
	for (size_t i = 0; i < CANARY / 8; i++)
		if (block[i] != MAGIC || above[i] != MAGIC)
			intact = 0;
	if (handled && intact)
		KT_MARK("handler returned, canaries intact");
	// CHECK-NEXT: {^}handler returned, canaries intact{$}
	free(obj);
	return 0;
}
