/*
 * An address without shadow (the NULL page) in an outline build: the report is the
 * header, the access line, a blank line and the stack dump, and the closing rule
 * comes right after " </TASK>", with no blank line: Linux's print_report
 * (mm/kasan/report.c) prints print_address_description (which ends the stack dump
 * with a blank line) and the memory state only if addr_has_metadata(), else just
 * dump_stack_lvl(), and end_report() the rule. Inline builds take the
 * general-protection-fault path instead. The load itself then faults (as
 * null-ptr-deref.c): the program dies of SIGSEGV.
 */
// ONLY: outline inline builds fault on the shadow of an address without one instead
// EXIT: SIGSEGV
// REPORTS: 1
#include <stddef.h>

#include "e2e.h"

KT_NOINLINE int read_int(const int *p)
{
	return *(const volatile int *)p;
}

int main(void)
{
	// CHECK: {^}BUG: KASAN: null-ptr-deref in read_int+0x
	// CHECK-NEXT: {^}Read of size 4 at addr 0000000000000010 by task {comm}/{pid}{$}
	// CHECK-NEXT: {^}{$}
	// CHECK-NEXT: {^}CPU: 
	// CHECK: {^} </TASK>{$}
	// CHECK-NEXT: {^}=================================================================={$}
	// CHECK-NOT: Memory state around the buggy address
	int v = read_int((const int *)opaque_ptr((void *)16));
	(void)v;
	return 0;
}
