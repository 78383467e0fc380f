/*
 * JSON mode, a NULL-page store. inline: the general protection fault (see
 * null-ptr-deref.c; syzkaller pkg/report/testdata/linux/report/738) as a report line
 * with `fault` set, every field present: what a fault without registers cannot know
 * (`first_bad_addr`, the object, the shadow rows, `registers`, `code`) is null.
 * outline: the BUG: KASAN: null-ptr-deref report, `fault` null.
 */
// ENV: KASAN_OPTIONS=kasan.report_format=json
// JSON-LINES: all
// EXIT: SIGSEGV
// REPORTS: 1
#include "e2e.h"

KT_NOINLINE void store_int(int *p)
{
	*(volatile int *)p = 1;
}

int main(void)
{
	// CHECK: {^}{"version":1,"kind":"report","mode":"generic","bug_type":"null-ptr-deref","access":"write","size":4,"addr":"0x10","first_bad_addr":
	// CHECK-SAME: "function":"store_int"
	// CHECK-SAME: "task":{"comm":"{comm}","pid":{pid}},"cpu":
	// CHECK-SAME: "taint":"","release":"kasan-
	// CHECK-SAME: "frames":[{"ip":"0x{*}","function":"store_int","offset":{*},"file":"{*}gpf-null-json.c","line":
	// CHECK-SAME: "memory":null,"alloc_track":null,"free_track":null,"aux_stacks":null,"object":null,"page":null,"vmalloc":null,"stack":null,"variable":null,"shadow":null
	// CHECK-SAME(inline): "fault":{"type":"general protection fault","shadow_addr":"0xdffffc0000000002","qualifier":null,"range":["0x10","0x17"],"error_code":0,"oops":1,"registers":null,"code":null}}{$}
	// CHECK-SAME(outline): "fault":null}{$}
	store_int(opaque_ptr((void *)0x10UL));
	kt_barrier();
	return 0;
}
