/*
 * A task name with a newline and a quote, in JSON mode: the line stays one valid
 * JSON object.
 */
// ENV: KASAN_OPTIONS=kasan.report_format=json
// JSON-LINES: all
#include <stdlib.h>
#include <sys/prctl.h>

#include "e2e.h"

KT_NOINLINE void write_byte(char *p, long i)
{
	((volatile char *)p)[i] = 0;
}

int main(void)
{
	char *p = malloc(opaque_size(16));

	prctl(PR_SET_NAME, "a\"b\nc\\d");
	// CHECK: "bug_type":"slab-out-of-bounds"
	// CHECK-SAME: "task":{"comm":"a\"b?c\\d","pid":{pid}}
	// REPORTS: 1
	write_byte(p, (long)opaque_size(16));
	free(p);
	return 0;
}
