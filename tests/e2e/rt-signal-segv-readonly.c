/*
 * A store to a read-only page: no KASAN bug (the shadow says the bytes are fine), a
 * fault the kernel calls SEGV_ACCERR. One line (address, pc, "write access"), the call
 * trace, death by SIGSEGV.
 */
// EXIT: SIGSEGV
#include <sys/mman.h>

#include "e2e.h"

KT_NOINLINE void store(long *p)
{
	*(volatile long *)p = 1;
}

int main(void)
{
	long *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	KT_ADDR("p", p + 2);
	// CHECK: {^}kasan: SEGV on address {p} (not permitted) (pc {*} store+0x{*}, write access) by task {comm}/{pid}{$}
	// CHECK-NEXT: {^}Call Trace:{$}
	// CHECK-NEXT: {^} <TASK>{$}
	// CHECK-NEXT: {^} store+0x{*} {*}rt-signal-segv-readonly.c:13{$}
	// CHECK-NEXT: {^} main+0x{*} {*}rt-signal-segv-readonly.c:
	// REPORTS: 0
	store(opaque_ptr(p + 2));
	kt_barrier();
	KT_MARK("survived the fault");
	// CHECK-NOT: survived the fault
	return 0;
}
