/*
 * A bug hit on a 16 KiB coroutine stack (makecontext on a malloc'd block) is
 * reported once, exactly, and the program goes on: the report takes little of that
 * stack (it runs on the runtime's report stack), so the canary words right below
 * and above the small stack are intact.
 */
// ENV: KASAN_OPTIONS=kasan_multi_shot
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#include "e2e.h"

#define STACK (16 << 10)
#define CANARY 512 /* words */
#define MAGIC 0x6b6173616e21c0deULL

static ucontext_t main_ctx, co_ctx;
static uint64_t *block;

KT_NOINLINE void write_byte(char *p, long i)
{
	((volatile char *)p)[i] = 0;
}

static void coroutine(void)
{
	char *p = malloc(opaque_size(16));

	KT_ADDR("p", p);
	write_byte(p, (long)opaque_size(16));
	kt_barrier();
	free(p);
}

static int canaries_intact(void)
{
	uint64_t *above = block + CANARY + STACK / 8;

	for (int i = 0; i < CANARY; i++)
		if (block[i] != MAGIC || above[i] != MAGIC)
			return 0;
	return 1;
}

int main(void)
{
	size_t bytes = STACK + 2 * CANARY * 8;

	block = malloc(bytes);
	for (size_t i = 0; i < bytes / 8; i++)
		block[i] = MAGIC;
	/* The stack itself is used from its top down: only the canaries keep MAGIC. */
	getcontext(&co_ctx);
	co_ctx.uc_stack.ss_sp = block + CANARY;
	co_ctx.uc_stack.ss_size = STACK;
	co_ctx.uc_link = &main_ctx;
	makecontext(&co_ctx, coroutine, 0);
	// CHECK: ==================================================================
	// CHECK-NEXT: BUG: KASAN: slab-out-of-bounds in write_byte+0x
	// CHECK-NEXT: {^}Write of size 1 at addr {p+16} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT:  write_byte+0x
	// CHECK-NEXT:  coroutine+0x
	// CHECK: Allocated by task {pid}:
	// CHECK: The buggy address belongs to the object at {p}
	// CHECK-NEXT:  which belongs to the cache kmalloc-16 of size 16
	// CHECK: {^}>{row:p+16}: 
	// CHECK-NEXT: {caret:p+16}
	// CHECK: {^}=================================================================={$}
	swapcontext(&main_ctx, &co_ctx);
	if (canaries_intact())
		KT_MARK("back from the coroutine, canaries intact");
	// CHECK-NEXT: {^}back from the coroutine, canaries intact{$}
	free(block);
	return 0;
}
