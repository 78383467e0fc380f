/*
 * A wild access: a load from 0xdead000000000000, a non-canonical address with no
 * shadow.
 *
 * outline: __asan_load8_noabort reports a wild-memory-access (header, access line,
 * call trace, nothing else), then the load faults.
 * inline: the compiler's own shadow load, at (0xdead000000000000 >> 3) + 0x7fff8000 =
 * 0x1bd5a0007fff8000, faults first, before any runtime call. The runtime's SIGSEGV
 * handler then prints what Linux's general protection fault handler prints with
 * kasan_non_canonical_hook (a "KASAN: ... in range" line, not a BUG: KASAN: report),
 * and the program dies of SIGSEGV.
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
	// CHECK(inline): {^}general protection fault, probably for non-canonical address 0x1bd5a0007fff8000: 0000 [#1] SMP KASAN{$}
	// CHECK-NEXT(inline): {^}KASAN: maybe wild-memory-access in range [0xdead000000000000-0xdead000000000007]{$}
	// CHECK-NEXT(inline): {^}CPU: {*} PID: {pid} Comm: {comm} 
	// CHECK-NEXT(inline): {^}RIP: load+0x
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} load+0x{*} {*}wild-access.c:
	// CHECK-NEXT: {^} main+0x
	// CHECK-NOT: Allocated by task
	// CHECK-NOT: The buggy address belongs to
	// CHECK-NOT: Memory state around the buggy address
	long v = load(opaque_ptr((void *)0xdead000000000000UL));
	kt_barrier();
	KT_MARK("survived the wild access");
	// CHECK-NOT: survived the wild access
	return (int)v;
}
