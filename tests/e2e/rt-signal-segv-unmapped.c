/*
 * A load from an unmapped page whose shadow is clean (a page the program mapped and
 * unmapped): no KASAN bug, so no report, but not silence either: one line saying what
 * happened (SEGV on unknown address, the address, the pc, the access), the call
 * trace, and the process dies of SIGSEGV as it would have without the runtime.
 */
// EXIT: SIGSEGV
#include <sys/mman.h>

#include "e2e.h"

KT_NOINLINE long load(const long *p)
{
	return *(const volatile long *)p;
}

int main(void)
{
	long *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	KT_ADDR("p", p);
	munmap(p, 4096);
	// CHECK: {^}kasan: SEGV on unknown address {p} (pc {*} load+0x{*}, read access) by task {comm}/{pid}{$}
	// CHECK-NEXT: {^}Call Trace:{$}
	// CHECK-NEXT: {^} <TASK>{$}
	// CHECK-NEXT: {^} load+0x{*} {*}rt-signal-segv-unmapped.c:14{$}
	// CHECK-NEXT: {^} main+0x{*} {*}rt-signal-segv-unmapped.c:
	// CHECK: {^} </TASK>{$}
	// CHECK-NOT: BUG: KASAN
	// REPORTS: 0
	long v = load(opaque_ptr(p));
	kt_barrier();
	KT_MARK("survived the fault");
	// CHECK-NOT: survived the fault
	return (int)v;
}
