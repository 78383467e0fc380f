/*
 * A bug in a callback that glibc's qsort calls: glibc is built without frame pointers,
 * so a frame-pointer walk stops in (or reads garbage past) msort_with_tmp. A report's
 * trace is taken once, so the runtime unwinds it by the loaded objects' .eh_frame
 * where the frame-pointer chain cannot go, and the program's frames below qsort are
 * there, as Linux's ORC unwinder shows every frame (compiler-rt's
 * overflow-in-qsort.cpp, CHECK-SLOW). The same for tsearch (bsearch would be
 * glibc's inline header version). One report each (the callback goes out of bounds
 * on its first call only).
 */
#include <search.h>
#include <stdlib.h>

#include "e2e.h"

int table[10];
static volatile int past = 10;
static volatile int armed;

static int compare(const void *a, const void *b)
{
	if (armed) {
		armed = 0;
		table[past] = 1;
	}
	return *(const char *)a - *(const char *)b;
}

KT_NOINLINE void sort_them(char *a, size_t n)
{
	qsort(a, n, 1, compare);
	kt_barrier();
}

KT_NOINLINE void *insert_two(const char *a, const char *b)
{
	static void *root;
	void *r;

	tsearch(a, &root, compare);
	armed = 1;
	r = tsearch(b, &root, compare);
	kt_barrier();
	return r;
}

int main(void)
{
	char a[4] = { 4, 3, 2, 1 };

	// CHECK: BUG: KASAN: global-out-of-bounds in compare+0x
	// CHECK-NEXT: {^}Write of size 4 at addr {*} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} compare+0x
	// CHECK: {^} qsort_r+0x
	// CHECK-NEXT: {^} sort_them+0x
	// CHECK-NEXT: {^} main+0x
	armed = 1;
	sort_them(a, opaque_size(4));
	// CHECK: BUG: KASAN: global-out-of-bounds in compare+0x
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} compare+0x
	// CHECK-NEXT: {^} {*}tsearch+0x
	// CHECK-NEXT: {^} insert_two+0x
	// CHECK-NEXT: {^} main+0x
	insert_two(&a[0], &a[1]);
	return table[0] & 0;
}
// ENV: KASAN_OPTIONS=kasan_multi_shot
// REPORTS: 2
