/*
 * A wild access: a load from 0xdead000000000000, a non-canonical address with no
 * shadow.
 *
 * outline: __asan_load8_noabort reports a wild-memory-access (header, access line,
 * call trace, nothing else), then the load faults.
 * inline: the compiler's own shadow load, at (0xdead000000000000 >> 3) + 0x7fff8000 =
 * 0x1bd5a0007fff8000, faults first, before any runtime call. The runtime's SIGSEGV
 * handler then prints what x86-64 Linux's general protection fault handler prints
 * with kasan_non_canonical_hook, in the layout of syzbot's 6.14 report in syzkaller
 * pkg/report/testdata/linux/report/738:
 *   Oops: general protection fault, probably for non-canonical address 0xdffffc0000000004: 0000 [#1] SMP KASAN PTI
 *   KASAN: null-ptr-deref in range [0x0000000000000020-0x0000000000000027]
 *   CPU: ...
 *   RIP: 0010:__se_sys_mremap+0x25fa/0x2c00
 *   Code: c0 0f 85 ... 00 00 <80> 78 04 00 ...      (42 bytes, <RIP byte>, 21 bytes)
 *   RSP: 0018:ffffc9000414fb40 EFLAGS: 00010246
 *   RAX: dffffc0000000000 RBX: 0000000000000000 RCX: 1ffff92000829fca
 *   ... (RDX RSI RDI / RBP R08 R09 / R10 R11 R12 / R13 R14 R15)
 *   Call Trace:
 *    <TASK>
 *    ... (callers)
 *    </TASK>
 *   Modules linked in:
 *   ---[ end trace 0000000000000000 ]---
 *   RIP: 0010:__se_sys_mremap+0x25fa/0x2c00
 *   Code: ... and the registers again
 * The registers are the signal's; the segment, control and debug register lines
 * (FS/CS/CR0/DR0) are left out, as a process cannot see them. Then the program dies
 * of SIGSEGV.
 */
// EXIT: SIGSEGV
#include "e2e.h"

KT_NOINLINE long load(const long *p)
{
	return *(const volatile long *)p;
}

int main(void)
{
	// CHECK(outline): ==================================================================
	// CHECK-NEXT(outline): BUG: KASAN: wild-memory-access in load+0x
	// CHECK-NEXT(outline): {^}Read of size 8 at addr dead000000000000 by task {comm}/{pid}{$}
	// CHECK(outline): Call Trace:
	// CHECK-NEXT(outline):  <TASK>
	// CHECK-NEXT(outline): {^} load+0x{*} {*}wild-access.c:
	// CHECK-NEXT(outline): {^} main+0x
	// CHECK(inline): {^}Oops: general protection fault, probably for non-canonical address 0x1bd5a0007fff8000: 0000 [#1] SMP KASAN{$}
	// CHECK-NEXT(inline): {^}KASAN: maybe wild-memory-access in range [0xdead000000000000-0xdead000000000007]{$}
	// CHECK-NEXT(inline): {^}CPU: {*} PID: {pid} Comm: {comm} Not tainted 
	// CHECK-NEXT(inline): {^}Hardware name: 
	// CHECK-NEXT(inline): {^}RIP: 0010:load+0x{*}/0x{*} {*}wild-access.c:
	// CHECK-NEXT(inline): {^}Code: {*} <{*}> {*}{$}
	// CHECK-NEXT(inline): {^}RSP: 0018:00007ff{*} EFLAGS: 00{*}{$}
	// CHECK-NEXT(inline): {^}RAX: {*} RBX: {*} RCX: {*}{$}
	// CHECK-NEXT(inline): {^}RDX: {*} RSI: {*} RDI: {*}{$}
	// CHECK-NEXT(inline): {^}RBP: {*} R08: {*} R09: {*}{$}
	// CHECK-NEXT(inline): {^}R10: {*} R11: {*} R12: {*}{$}
	// CHECK-NEXT(inline): {^}R13: {*} R14: {*} R15: {*}{$}
	// CHECK-NEXT(inline): {^}Call Trace:{$}
	// CHECK-NEXT(inline): {^} <TASK>{$}
	// CHECK-NEXT(inline): {^} main+0x{*} {*}wild-access.c:
	// CHECK(inline): {^} </TASK>{$}
	// CHECK-NEXT(inline): {^}Modules linked in:{$}
	// CHECK-NEXT(inline): {^}---[ end trace 0000000000000000 ]---{$}
	// CHECK-NEXT(inline): {^}RIP: 0010:load+0x{*}/0x{*} {*}wild-access.c:
	// CHECK-NEXT(inline): {^}Code: {*} <{*}> {*}{$}
	// CHECK-NEXT(inline): {^}RSP: 0018:
	// CHECK-NOT(inline): BUG: KASAN
	// CHECK-NOT: Allocated by task
	// CHECK-NOT: The buggy address belongs to
	// CHECK-NOT: Memory state around the buggy address
	long v = load(opaque_ptr((void *)0xdead000000000000UL));
	kt_barrier();
	KT_MARK("survived the wild access");
	// CHECK-NOT: survived the wild access
	return (int)v;
}
