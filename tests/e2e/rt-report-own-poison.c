/*
 * The program leaves kasan_poison_range on its own stack (below the stack pointer,
 * where the frames of the next calls go), then makes a real heap bug in single-shot
 * mode: exactly that one report. The runtime's own memset/memcpy on its frames in
 * the poisoned region are not checked as the program's (they once reported
 * "stack-out-of-bounds in kasan::runtime::report" and took the single shot).
 */
#include <stdlib.h>
#include <string.h>

#include <kasan.h>

#include "e2e.h"

#define DEPTH (48 << 10)

static char *poisoned;

/* Poisons the part of the stack below its caller's frame and leaves it so. */
KT_NOINLINE void poison_below(void)
{
	char area[DEPTH];

	poisoned = opaque_ptr(area);
	kasan_poison_range(area, sizeof area);
	kt_barrier();
}

KT_NOINLINE void write_byte(char *p, long i)
{
	((volatile char *)p)[i] = 0;
}

int main(void)
{
	char *p = malloc(opaque_size(32));
	char *q;

	KT_ADDR("p", p);
	poison_below();
	// CHECK: ==================================================================
	// CHECK-NEXT: BUG: KASAN: slab-out-of-bounds in write_byte+0x
	// CHECK-NEXT: {^}Write of size 1 at addr {p+32} by task {comm}/{pid}{$}
	// CHECK: The buggy address belongs to the object at {p}
	// CHECK-NEXT:  which belongs to the cache kmalloc-32 of size 32
	// CHECK: {^}>{row:p+32}: 
	// CHECK-NEXT: {caret:p+32}
	// CHECK: {^}=================================================================={$}
	// CHECK-NOT: kasan::
	// CHECK-NOT: kasan_
	// REPORTS: 1
	write_byte(p, (long)opaque_size(32));
	kt_barrier();
	/* The allocator's frames land in the poisoned region too. */
	q = realloc(p, opaque_size(200));
	free(q);
	kasan_unpoison_range(poisoned, DEPTH);
	if (kasan_reports_count() == 1)
		KT_MARK("one report");
	else
		KT_MARK("wrong count");
	// CHECK-NEXT: {^}one report{$}
	return 0;
}
