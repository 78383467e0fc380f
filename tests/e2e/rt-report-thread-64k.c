/*
 * A bug hit on a thread whose stack is 64 KiB (a block of our own, between canary
 * words) is reported once, exactly; the thread returns and the canaries just
 * below and above its stack are intact. (The report once needed ~62 KiB of the
 * program's stack and the thread died of SIGSEGV with nothing printed.)
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "e2e.h"

#define STACK (64 << 10)
#define CANARY 4096 /* bytes: one page each side */
#define MAGIC 0x6b6173616e21c0deULL

KT_NOINLINE char read_byte(const char *p, long i)
{
	return ((const volatile char *)p)[i];
}

static void *thread(void *arg)
{
	char *p = malloc(opaque_size(40));

	(void)arg;
	KT_ADDR("p", p);
	read_byte(p, (long)opaque_size(40));
	kt_barrier();
	free(p);
	return (void *)1;
}

int main(void)
{
	size_t bytes = STACK + 2 * CANARY;
	uint64_t *block = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t *above = block + (CANARY + STACK) / 8;
	pthread_attr_t attr;
	pthread_t t;
	void *ret = NULL;
	int intact = 1;

	for (size_t i = 0; i < bytes / 8; i++)
		block[i] = MAGIC;
	pthread_attr_init(&attr);
	pthread_attr_setstack(&attr, (char *)block + CANARY, STACK);
	// CHECK: ==================================================================
	// CHECK-NEXT: BUG: KASAN: slab-out-of-bounds in read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+40} by task {comm}/{*}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT:  read_byte+0x
	// CHECK-NEXT:  thread+0x
	// CHECK: The buggy address belongs to the object at {p}
	// CHECK-NEXT:  which belongs to the cache kmalloc-64 of size 64
	// CHECK: {^}>{row:p+40}: 
	// CHECK-NEXT: {caret:p+40}
	// CHECK: {^}=================================================================={$}
	pthread_create(&t, &attr, thread, NULL);
	pthread_join(t, &ret);
	for (size_t i = 0; i < CANARY / 8; i++)
		if (block[i] != MAGIC || above[i] != MAGIC)
			intact = 0;
	if (ret == (void *)1 && intact)
		KT_MARK("thread returned, canaries intact");
	// CHECK-NEXT: {^}thread returned, canaries intact{$}
	return 0;
}
