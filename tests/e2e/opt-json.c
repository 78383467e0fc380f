/*
 * kasan.report_format=json: one JSON object per report, on one line, instead of the
 * text report. Fields are checked wherever they are on the line.
 */
// ENV: KASAN_OPTIONS=kasan.report_format=json
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

KT_NOINLINE char *alloc_obj(size_t n)
{
	char *p = malloc(n);

	memset(p, 0, n);
	return p;
}

KT_NOINLINE void write_byte(char *p, long i)
{
	((volatile char *)p)[i] = 0;
}

int main(void)
{
	char *p = alloc_obj(opaque_size(100));

	KT_ADDR("p", p);
	// CHECK: {^}{"{*}"bug_type":"slab-out-of-bounds"{*}}{$}
	// CHECK-SAME: "mode":"generic"
	// CHECK-SAME: "access":"write"
	// CHECK-SAME: "size":1,
	// CHECK-SAME: "addr":"{hex:p+100}"
	// CHECK-SAME: "ip":"0x
	// CHECK-SAME: "function":"write_byte"
	// CHECK-SAME: "task":{"comm":"{comm}","pid":{pid}}
	// CHECK-SAME: "frames":[{"ip":"0x
	// CHECK-SAME: "function":"write_byte","offset":
	// CHECK-SAME: "file":"{*}opt-json.c","line":
	// CHECK-SAME: "alloc_track":{"task":{pid},
	// CHECK-SAME: "function":"alloc_obj"
	// CHECK-SAME: "free_track":null
	// CHECK-SAME: "object":{"cache":"kmalloc-128","start":"{hex:p}","size":100,
	// CHECK-SAME: "offset_relation":"right","distance":0
	// CHECK-SAME: "shadow":[{"addr":"0x
	// CHECK-NOT: BUG: KASAN
	// CHECK-NOT: ======
	// REPORTS: 1
	write_byte(p, (long)opaque_size(100));
	KT_MARK("went on after the report");
	// CHECK-NEXT: went on after the report
	free(p);
	return 0;
}
