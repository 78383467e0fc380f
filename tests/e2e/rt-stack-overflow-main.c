/*
 * Unbounded recursion on the main thread: the guard page below the stack faults. The
 * fault handler runs on the runtime's alternate signal stack, says "stack-overflow"
 * with the address, the pc and the call trace (the recursing function), and the
 * process dies of SIGSEGV. In outline builds the push that overflows may be the call
 * of the store check or the check's own prologue (pc in __asan_store1_noabort, the
 * recursing frames right below it); both are the overflow.
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
	// CHECK(inline): {^}kasan: stack-overflow on address {*} (pc {*} recurse+0x{*} access) by task {comm}/{pid}{$}
	// CHECK(outline): {^}kasan: stack-overflow on address {*} (pc {*} {*}+0x{*} access) by task {comm}/{pid}{$}
	// CHECK-NEXT: {^}Call Trace:{$}
	// CHECK-NEXT: {^} <TASK>{$}
	// CHECK(inline): {^} recurse+0x{*} {*}rt-stack-overflow-main.c:
	// CHECK-NEXT(inline): {^} recurse+0x{*} {*}rt-stack-overflow-main.c:
	// CHECK(outline): {^} recurse+0x{*} {*}rt-stack-overflow-main.c:
	// CHECK-NEXT(outline): {^} recurse+0x{*} {*}rt-stack-overflow-main.c:
	// CHECK-NOT: SEGV on unknown address
	// REPORTS: 0
	int r = recurse((int)opaque_size(0));
	KT_MARK("survived the overflow");
	// CHECK-NOT: survived the overflow
	return r;
}
