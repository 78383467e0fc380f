/*
 * A task name with a newline and a tab: the report's lines are not split; control
 * bytes print as '?'.
 */
#include <stdlib.h>
#include <sys/prctl.h>

#include "e2e.h"

KT_NOINLINE void write_byte(char *p, long i)
{
	((volatile char *)p)[i] = 0;
}

int main(void)
{
	char *p = malloc(opaque_size(16));

	KT_ADDR("p", p);
	prctl(PR_SET_NAME, "bad\nna\tme");
	// CHECK: ==================================================================
	// CHECK-NEXT: BUG: KASAN: slab-out-of-bounds in write_byte+0x
	// CHECK-NEXT: {^}Write of size 1 at addr {p+16} by task bad?na?me/{pid}{$}
	// CHECK-NEXT: {^}{$}
	// CHECK-NEXT: {^}CPU: {*} PID: {pid} Comm: bad?na?me Not tainted kasan-{*}{$}
	// CHECK-NEXT: {^}Hardware name: {*}
	// CHECK-NEXT: {^}Call Trace:{$}
	// CHECK-NOT: {^}na
	write_byte(p, (long)opaque_size(16));
	free(p);
	return 0;
}
