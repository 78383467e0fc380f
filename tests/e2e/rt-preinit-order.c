/*
 * A program's own .preinit_array function runs before libc's constructors, and is
 * instrumented: its stack redzones and its heap overflow need the shadow and the heap
 * already there. kasan cc links the runtime before the program's files, so the
 * runtime's preinit entry comes first; before it did, this died by SIGSEGV in the
 * prologue's shadow store (compiler-rt's preinit_test.cpp and a heap bug from
 * .preinit_array). The bug is reported as any other; main's clean twin then runs.
 */
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

static void early(void)
{
	char frame[32];
	volatile char *volatile p = malloc(opaque_size(8));

	memset(frame, 1, sizeof frame);
	kt_barrier();
	KT_ADDR("p", p);
	// CHECK: BUG: KASAN: slab-out-of-bounds in early+0x
	// CHECK-NEXT: {^}Write of size 1 at addr {p+8} by task {comm}/{pid}{$}
	// CHECK: The buggy address belongs to the object at {p}
	p[8] = 1;
	free((void *)p);
}

__attribute__((section(".preinit_array"), used)) static void (*early_p)(void) = early;

int main(void)
{
	char *q = malloc(opaque_size(8));

	memset(q, 2, 8);
	free(q);
	// CHECK: {^}main ran{$}
	KT_MARK("main ran");
	return 0;
}
