/*
 * A program that handles SIGSEGV itself gets the fault of a NULL dereference, after
 * the report: the report is printed, then the access runs, faults for real and
 * reaches the program's handler (which jumps out), and the program goes on.
 *
 * A slab-out-of-bounds report comes first, so the fault's CPU line says Tainted
 * (Linux taints with B = bad page at a KASAN report, and every later report and oops
 * of the boot says so); two NULL dereferences give Oops [#1] and [#2] (Linux's
 * die_counter). Layout: syzbot's 6.14 report in syzkaller
 * pkg/report/testdata/linux/report/738 ("Oops: general protection fault, probably
 * for non-canonical address 0xdffffc0000000004: 0000 [#1] SMP KASAN PTI"); its
 * outline twin is Linux outline's "BUG: KASAN: null-ptr-deref" (kasan_check_range).
 */
// REPORTS(inline): 1
// REPORTS(outline): 3
// ENV: KASAN_OPTIONS=kasan_multi_shot
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

static sigjmp_buf recover;

static void on_segv(int sig)
{
	(void)sig;
	siglongjmp(recover, 1);
}

KT_NOINLINE char read_byte(const char *p, size_t i)
{
	return ((const volatile char *)p)[i];
}

KT_NOINLINE void store_int(int *p)
{
	*(volatile int *)p = 1;
}

int main(void)
{
	struct sigaction sa;
	char *p = malloc(opaque_size(16));

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_segv;
	sigaction(SIGSEGV, &sa, NULL);

	// CHECK: BUG: KASAN: slab-out-of-bounds in read_byte+0x
	read_byte(p, opaque_size(16));
	free(p);
	for (int i = 0; i < 2; i++) {
		if (sigsetjmp(recover, 1) == 0) {
			store_int(opaque_ptr((void *)(0x10UL + 8 * i)));
			kt_barrier();
			KT_MARK("no fault");
		} else {
			KT_MARK("recovered from the fault");
		}
	}
	// CHECK(inline): {^}Oops: general protection fault, probably for non-canonical address 0xdffffc0000000002: 0000 [#1] SMP KASAN{$}
	// CHECK-NEXT(inline): {^}KASAN: null-ptr-deref in range [0x0000000000000010-0x0000000000000017]{$}
	// CHECK-NEXT(inline): {^}CPU: {*} PID: {pid} Comm: {comm} Tainted: G    B 
	// CHECK-NEXT(inline): {^}Hardware name: 
	// CHECK-NEXT(inline): {^}RIP: 0010:store_int+0x
	// CHECK(outline): BUG: KASAN: null-ptr-deref in store_int+0x
	// CHECK-NEXT(outline): {^}Write of size 4 at addr 0000000000000010 by task {comm}/{pid}{$}
	// CHECK: {^}recovered from the fault{$}
	// CHECK(inline): {^}Oops: general protection fault, probably for non-canonical address 0xdffffc0000000003: 0000 [#2] SMP KASAN{$}
	// CHECK-NEXT(inline): {^}KASAN: null-ptr-deref in range [0x0000000000000018-0x000000000000001f]{$}
	// CHECK(outline): BUG: KASAN: null-ptr-deref in store_int+0x
	// CHECK-NEXT(outline): {^}Write of size 4 at addr 0000000000000018 by task {comm}/{pid}{$}
	// CHECK: {^}recovered from the fault{$}
	// CHECK-NOT: no fault
	// CHECK-NOT: SEGV on unknown address
	KT_MARK("went on");
	// CHECK: {^}went on{$}
	return 0;
}
