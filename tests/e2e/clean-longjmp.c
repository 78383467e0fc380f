/*
 * Clean: longjmp out of deep frames with instrumented stack arrays. The skipped frames
 * leave their redzones poisoned unless the runtime clears them
 * (__asan_handle_no_return before the jump); later, deeper calls reuse that stack.
 */
#include <setjmp.h>
#include <string.h>

#include "e2e.h"

static jmp_buf env;

KT_NOINLINE static void deep(int depth)
{
	char frame[64];

	memset(frame, depth, sizeof frame);
	kt_barrier();
	if (depth == 0)
		longjmp(env, 1);
	deep(depth - 1);
	kt_barrier();
}

KT_NOINLINE static long reuse(int depth)
{
	char big[256];

	memset(big, 7, sizeof big);
	if (depth == 0)
		return ((volatile char *)big)[255];
	return big[0] + reuse(depth - 1);
}

int main(void)
{
	long s = 0;

	for (int round = 0; round < 5; round++) {
		if (setjmp(env) == 0)
			deep(30);
		s += reuse(30);
	}
	printf("sum %ld\n", s);
	return 0;
}
