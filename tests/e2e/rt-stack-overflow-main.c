/*
 * Unbounded recursion on the main thread: the guard page below the stack faults. The
 * fault handler runs on the runtime's alternate signal stack, says "stack-overflow"
 * with the address, the pc and the call trace (the recursing function), and the
 * process dies of SIGSEGV.
 */
// EXIT: SIGSEGV
#include "e2e.h"

KT_NOINLINE int recurse(int n)
{
	volatile char buf[200];

	buf[n % 200] = (char)n;
	int r = recurse(n + 1);
	return r + buf[(n * 7) % 200];
}

int main(void)
{
	// CHECK: {^}kasan: stack-overflow on address {*} (pc {*} recurse+0x{*} access) by task {comm}/{pid}{$}
	// CHECK-NEXT: {^}Call Trace:{$}
	// CHECK-NEXT: {^} <TASK>{$}
	// CHECK-NEXT: {^} recurse+0x{*} {*}rt-stack-overflow-main.c:
	// CHECK-NEXT: {^} recurse+0x{*} {*}rt-stack-overflow-main.c:
	// CHECK-NOT: SEGV on unknown address
	// REPORTS: 0
	int r = recurse((int)opaque_size(0));
	KT_MARK("survived the overflow");
	// CHECK-NOT: survived the overflow
	return r;
}
