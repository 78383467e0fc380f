/*
 * JSON mode, a load from the non-canonical 0xdead000000000000. inline: the general
 * protection fault (see wild-access.c; syzkaller pkg/report/testdata/linux/report/738)
 * as a report line: the fault knows no access type or size (null), and has the
 * registers of the signal and the 64 code bytes around RIP (42 before it, Linux's
 * show_opcodes). outline: __asan_load8 reports a wild-memory-access first, `fault` null.
 */
// ENV: KASAN_OPTIONS=kasan.report_format=json
// JSON-LINES: all
// EXIT: SIGSEGV
// REPORTS: 1
#include "e2e.h"

KT_NOINLINE long load(const long *p)
{
	return *(const volatile long *)p;
}

int main(void)
{
	// CHECK: {^}{"version":1,"kind":"report","mode":"generic","bug_type":"wild-memory-access"
	// CHECK-SAME(inline): ,"access":null,"size":null,"addr":"0xdead000000000000","first_bad_addr":null,
	// CHECK-SAME(outline): ,"access":"read","size":8,"addr":"0xdead000000000000","first_bad_addr":null,
	// CHECK-SAME: "function":"load"
	// CHECK-SAME(inline): "fault":{"type":"general protection fault","shadow_addr":"0x1bd5a0007fff8000","qualifier":"maybe","range":["0xdead000000000000","0xdead000000000007"],"error_code":0,"oops":1,"registers":{"RIP":"0x
	// CHECK-SAME(inline): "RBX":"0x
	// CHECK-SAME(inline): "R15":"0x
	// CHECK-SAME(inline): "code":{"start":"0x{*}","ip_offset":42,"bytes":[
	// CHECK-SAME(outline): "fault":null}{$}
	// CHECK-NEXT(outline): {^}{"version":1,"kind":"warning","mode":"generic","warning":"SEGV on unknown address (general protection fault)
	long v = load(opaque_ptr((void *)0xdead000000000000UL));
	kt_barrier();
	return (int)v;
}
