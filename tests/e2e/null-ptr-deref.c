/*
 * null-ptr-deref: reading a field at offset 8 through a NULL struct pointer.
 *
 * outline: __asan_load8_noabort finds no shadow for the NULL page and reports
 * `BUG: KASAN: null-ptr-deref`, as an outline kernel's kasan_check_range does; then
 * the load itself faults and the program dies of SIGSEGV.
 *
 * inline: an inline-KASAN x86-64 kernel's own shadow check faults on the NULL page's
 * shadow (0xdffffc0000000000 + 8/8, non-canonical): a general protection fault that
 * kasan_non_canonical_hook explains. The lines below follow syzbot's 6.14 report in
 * syzkaller pkg/report/testdata/linux/report/738 ("general protection fault in
 * mremap"):
 *   Oops: general protection fault, probably for non-canonical address 0xdffffc0000000004: 0000 [#1] SMP KASAN PTI
 *   KASAN: null-ptr-deref in range [0x0000000000000020-0x0000000000000027]
 *   CPU: 1 UID: 0 PID: 5827 Comm: syz-executor187 Not tainted 6.14.0-... #0 PREEMPT(full)
 *   RIP: 0010:__se_sys_mremap+0x25fa/0x2c00
 *   Code: ... / RSP: ... / RAX: ... (registers)
 *   Call Trace:
 *    <TASK>
 *    ... (the callers of the RIP function)
 *    </TASK>
 *   Modules linked in:
 *   ---[ end trace 0000000000000000 ]---
 *   RIP: 0010:__se_sys_mremap+0x25fa/0x2c00
 * Our inline check calls the runtime instead of faulting, so there are no registers
 * to print (no Code/RSP/RAX lines; the RIP is the return address of the check's call)
 * and no PTI flag (a property of a kernel's page tables). The task dies of SIGSEGV
 * right there, as the kernel kills it: the load never runs, no second line follows.
 */
// EXIT: SIGSEGV
#include <stddef.h>

#include "e2e.h"

struct node {
	long key;
	long value;
};

KT_NOINLINE long get_value(const struct node *n)
{
	return ((const volatile struct node *)n)->value;
}

int main(void)
{
	// CHECK(outline): ==================================================================
	// CHECK-NEXT(outline): BUG: KASAN: null-ptr-deref in get_value+0x
	// CHECK-NEXT(outline): {^}Read of size 8 at addr 0000000000000008 by task {comm}/{pid}{$}
	// CHECK(inline): {^}Oops: general protection fault, probably for non-canonical address 0xdffffc0000000001: 0000 [#1] SMP KASAN{$}
	// CHECK-NEXT(inline): {^}KASAN: null-ptr-deref in range [0x0000000000000008-0x000000000000000f]{$}
	// CHECK-NEXT(inline): {^}CPU: {*} PID: {pid} Comm: {comm} Not tainted 
	// CHECK-NEXT(inline): {^}Hardware name: 
	// CHECK-NEXT(inline): {^}RIP: 0010:get_value+0x{*}/0x{*} {*}null-ptr-deref.c:
	// CHECK-NEXT(inline): {^}Call Trace:{$}
	// CHECK-NEXT(inline): {^} <TASK>{$}
	// CHECK-NEXT(inline): {^} main+0x{*} {*}null-ptr-deref.c:
	// CHECK(inline): {^} </TASK>{$}
	// CHECK-NEXT(inline): {^}Modules linked in:{$}
	// CHECK-NEXT(inline): {^}---[ end trace 0000000000000000 ]---{$}
	// CHECK-NEXT(inline): {^}RIP: 0010:get_value+0x{*}/0x{*} {*}null-ptr-deref.c:
	// CHECK-NOT(inline): Code:
	// CHECK-NOT(inline): BUG: KASAN
	// CHECK-NOT(inline): SEGV on unknown address
	// CHECK(outline): Call Trace:
	// CHECK-NEXT(outline):  <TASK>
	// CHECK-NEXT(outline): {^} get_value+0x{*} {*}null-ptr-deref.c:
	// CHECK-NEXT(outline): {^} main+0x
	// CHECK(outline): {^}=================================================================={$}
	// CHECK-NOT: Allocated by task
	// CHECK-NOT: The buggy address belongs to
	// CHECK-NOT: Memory state around the buggy address
	long v = get_value(opaque_ptr(NULL));
	kt_barrier();
	KT_MARK("survived the NULL dereference");
	// CHECK-NOT: survived the NULL dereference
	return (int)v;
}
