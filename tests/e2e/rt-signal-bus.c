/*
 * SIGBUS: a load from a page of a file mapping past the end of the (empty) file. One
 * line ("bus error", the address, pc, access), the call trace, death by SIGBUS.
 */
// EXIT: SIGBUS
#define _GNU_SOURCE
#include <sys/mman.h>
#include <unistd.h>

#include "e2e.h"

KT_NOINLINE long load(const long *p)
{
	return *(const volatile long *)p;
}

int main(void)
{
	int fd = memfd_create("empty", 0);
	long *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);

	KT_ADDR("p", p);
	// CHECK: {^}kasan: bus error on address {p} (pc {*} load+0x{*}, read access) by task {comm}/{pid}{$}
	// CHECK-NEXT: {^}Call Trace:{$}
	// CHECK-NEXT: {^} <TASK>{$}
	// CHECK-NEXT: {^} load+0x{*} {*}rt-signal-bus.c:14{$}
	// CHECK-NEXT: {^} main+0x{*} {*}rt-signal-bus.c:
	// REPORTS: 0
	long v = load(opaque_ptr(p));
	kt_barrier();
	KT_MARK("survived the fault");
	// CHECK-NOT: survived the fault
	return (int)v;
}
