/*
 * Stale poison on a reused stack, in multi-shot mode: a deep call leaves a big
 * region below the stack pointer poisoned (as a cancelled thread's cached stack or
 * a vfork child would); then a report, and malloc/calloc/realloc/free, run with
 * their frames there: the one real bug is reported, and nothing else.
 */
// ENV: KASAN_OPTIONS=kasan_multi_shot
#include <stdlib.h>
#include <string.h>

#include <kasan.h>

#include "e2e.h"

#define DEPTH (96 << 10)

static char *poisoned;

KT_NOINLINE void leave_poison(void)
{
	char area[DEPTH];

	poisoned = opaque_ptr(area);
	/* As an instrumented frame that never ran its epilogue leaves it. */
	__asan_poison_memory_region(area, sizeof area);
	kt_barrier();
}

KT_NOINLINE char read_byte(const char *p, long i)
{
	return ((const volatile char *)p)[i];
}

int main(void)
{
	char *p = malloc(opaque_size(8));
	char *a[16];

	KT_ADDR("p", p);
	leave_poison();
	// CHECK: ==================================================================
	// CHECK-NEXT: BUG: KASAN: slab-out-of-bounds in read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+8} by task {comm}/{pid}{$}
	// CHECK: {^}=================================================================={$}
	// CHECK-NOT: kasan::
	// REPORTS: 1
	read_byte(p, (long)opaque_size(8));
	kt_barrier();
	for (int i = 0; i < 16; i++) {
		a[i] = i & 1 ? calloc(1, opaque_size(100 * i + 1)) : malloc(opaque_size(4000 * i + 1));
		a[i] = realloc(a[i], opaque_size(3000 * i + 5));
	}
	for (int i = 0; i < 16; i++)
		free(a[i]);
	free(p);
	__asan_unpoison_memory_region(poisoned, DEPTH);
	if (kasan_reports_count() == 1)
		KT_MARK("one report");
	else
		KT_MARK("wrong count");
	// CHECK-NEXT: {^}one report{$}
	return 0;
}
