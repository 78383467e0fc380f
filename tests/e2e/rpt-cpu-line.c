/*
 * The CPU line of the stack dump in its Linux 6.15+ form (lib/dump_stack.c
 * dump_stack_print_info): "CPU: <cpu> UID: <euid> PID: <pid> Comm: <comm> <taint>
 * <release> <build> <preemption model> " (the unconfigured build id leaves a
 * trailing space), then "Hardware name: ...". Real lines: syzkaller
 * pkg/report/testdata/linux/report/740 (6.15-rc1):
 *   CPU: 0 UID: 0 PID: 9489 Comm: syz-executor311 Not tainted 6.15.0-rc1 #1 PREEMPT(full) 
 *   Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.13.0-1ubuntu1.1 04/01/2014
 * The taint field has one column per taint flag (kernel/panic.c print_tainted, 20
 * flags since 6.15): report 999 shows "Tainted: G             L      syzkaller"
 * (G, 13 blanks, L, 5 blanks). After a report Linux is tainted B (TAINT_BAD_PAGE,
 * the 6th flag): the second report of a multi-shot run says
 * "Tainted: G    B" and 14 more blanks.
 */
// ENV: KASAN_OPTIONS=kasan_multi_shot
#include <stdlib.h>

#include "e2e.h"

KT_NOINLINE void write_byte(char *p, size_t i)
{
	((volatile char *)p)[i] = 1;
}

int main(void)
{
	char *p = malloc(opaque_size(16));

	KT_ADDR("p", p);
	// CHECK: BUG: KASAN: slab-out-of-bounds in write_byte+0x
	// CHECK-NEXT: {^}Write of size 1 at addr {p+16} by task {comm}/{pid}{$}
	// CHECK-NEXT: {^}{$}
	// CHECK-NEXT: {^}CPU: {*} UID: {*} PID: {pid} Comm: {comm} Not tainted kasan-{*} #1 PREEMPT(full) {$}
	// CHECK-NEXT: {^}Hardware name: {*}
	// CHECK-NEXT: {^}Call Trace:{$}
	write_byte(p, opaque_size(16));
	kt_barrier();
	// CHECK: BUG: KASAN: slab-out-of-bounds in write_byte+0x
	// CHECK-NEXT: {^}Write of size 1 at addr {p+17} by task {comm}/{pid}{$}
	// CHECK-NEXT: {^}{$}
	// CHECK-NEXT: {^}CPU: {*} UID: {*} PID: {pid} Comm: {comm} Tainted: G    B               kasan-{*} #1 PREEMPT(full) {$}
	// CHECK-NEXT: {^}Hardware name: {*}
	// CHECK-NEXT: {^}Call Trace:{$}
	write_byte(p, opaque_size(17));
	kt_barrier();
	free(p);
	return 0;
}
