/*
 * A longjmp on a coroutine's stack (makecontext, the stack a heap block): the compiler
 * calls __asan_handle_no_return before it, on a stack whose bounds the runtime does not
 * know. Clearing "up to the thread's stack top" from there would clear unrelated memory
 * (here: heap redzones), so nothing is cleared and one kasan: line says so, once for
 * the two jumps (ASan prints a like warning). Nothing is reported; the heap redzone
 * right after the coroutine's stack is still checked afterwards (the bug twin).
 */
// ENV: KASAN_OPTIONS=kasan_multi_shot
// REPORTS: 1
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#include "e2e.h"

static ucontext_t main_ctx, co_ctx;
static jmp_buf env;

KT_NOINLINE static void deep(int n)
{
	char frame[64];

	memset(frame, n, sizeof frame);
	kt_barrier();
	if (n == 0)
		longjmp(env, 1);
	deep(n - 1);
	kt_barrier();
}

static void coroutine(void)
{
	for (int i = 0; i < 2; i++)
		if (setjmp(env) == 0)
			deep(3);
}

int main(void)
{
	size_t size = 64 << 10;
	char *stack = malloc(opaque_size(size));

	getcontext(&co_ctx);
	co_ctx.uc_stack.ss_sp = stack;
	co_ctx.uc_stack.ss_size = size;
	co_ctx.uc_link = &main_ctx;
	makecontext(&co_ctx, coroutine, 0);
	swapcontext(&main_ctx, &co_ctx);
	// CHECK: {^}kasan: a call that does not return, on a stack of unknown bounds (sp 0x{*}): its redzones are left; false reports may follow{$}
	// CHECK-NEXT: {^}back on the main stack{$}
	KT_MARK("back on the main stack");
	KT_ADDR("s", stack);
	// CHECK: BUG: KASAN: slab-out-of-bounds in main+0x
	// CHECK-NEXT: {^}Write of size 1 at addr {s+65536} by task {comm}/{pid}{$}
	((volatile char *)stack)[opaque_size(size)] = 1;
	free(stack);
	return 0;
}
