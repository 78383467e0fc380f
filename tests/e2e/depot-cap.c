/*
 * A stack depot capped far below what the program needs: distinct stacks (recursion
 * of many depths, each allocating) fill it, later saves fail cleanly, the program goes
 * on, and a report whose stacks could not be saved (both are new: the call sites in
 * main differ) leaves their blocks out, as Linux does with a failed depot save.
 */
// ENV: KASAN_OPTIONS=kasan.stack_depot_size=100K,kasan.stats=on
#include <stdlib.h>

#include "e2e.h"

static void *keep[4096];
static int kept;

KT_NOINLINE void *deep(int depth)
{
	void *p;

	if (depth == 0)
		return malloc(16);
	p = deep(depth - 1);
	kt_barrier();
	return p;
}

/* Distinct callers make distinct stacks for the same depth. */
#define ENTRY(n)                                    \
	KT_NOINLINE void *entry##n(int depth)        \
	{                                           \
		void *p = deep(depth);              \
		kt_barrier();                       \
		return p;                           \
	}
ENTRY(0) ENTRY(1) ENTRY(2) ENTRY(3) ENTRY(4) ENTRY(5) ENTRY(6) ENTRY(7) ENTRY(8)

static void *(*const entries[8])(int) = { entry0, entry1, entry2, entry3,
					  entry4, entry5, entry6, entry7 };

KT_NOINLINE void drop(void *p)
{
	free(p);
	kt_barrier();
}

KT_NOINLINE char read_at(const char *p, size_t off)
{
	return *(const volatile char *)(p + off);
}

int main(void)
{
	for (int e = 0; e < 8; e++)
		for (int d = 0; d < 55; d++)
			keep[kept++] = entries[e](d);
	char *p = entry8(40); /* a new stack, after the depot is full */
	KT_ADDR("p", p);
	drop(p);
	// CHECK: BUG: KASAN: slab-use-after-free in read_at+0x
	// As Linux's describe_object_stacks (mm/kasan/report.c): a track whose stack
	// could not be saved (depot handle 0) is not printed at all.
	// CHECK-NOT: Allocated by task
	// CHECK: The buggy address belongs to the object at {p}
	read_at(opaque_ptr(p), 0);
	KT_MARK("still running");
	// CHECK: still running
	// CHECK: {^}kasan: stats: {*} depot_failed={*}
	// CHECK-NOT: depot_failed=0
	for (int i = 0; i < kept; i++)
		free(keep[i]);
	return 0;
}
