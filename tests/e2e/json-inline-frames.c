/*
 * JSON mode: a frame whose address lies in code inlined into it lists the inlined
 * functions (`inlined`, innermost first), as the text report's
 * " name file:line [inline]" lines before the frame (decode_stacktrace.sh's form).
 */
// ENV: KASAN_OPTIONS=kasan.report_format=json
// JSON-LINES: all
// REPORTS: 1
#include <stdlib.h>

#include "e2e.h"

static inline __attribute__((always_inline)) void put(char *p, long i)
{
	((volatile char *)p)[i] = 1;
}

KT_NOINLINE void outer(char *p, long i)
{
	put(p, i);
	kt_barrier();
}

int main(void)
{
	char *p = malloc(opaque_size(8));

	// CHECK: {^}{"version":1,"kind":"report","mode":"generic","bug_type":"slab-out-of-bounds"
	// CHECK-SAME: "frames":[{"ip":"0x{*}","function":"outer",{*},"inlined":[{"function":"put","file":"{*}json-inline-frames.c","line":15}]}
	outer(p, (long)opaque_size(8));
	kt_barrier();
	free(p);
	return 0;
}
