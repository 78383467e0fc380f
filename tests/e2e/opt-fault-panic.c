/*
 * kasan.fault=panic: the report is printed, then the process panics (aborts): nothing
 * after the bug runs.
 */
// ENV: KASAN_OPTIONS=kasan.fault=panic
// EXIT: SIGABRT
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

KT_NOINLINE void write_byte(char *p, long i)
{
	((volatile char *)p)[i] = 0;
}

int main(void)
{
	char *p = malloc(opaque_size(16));

	memset(p, 0, 16);
	KT_ADDR("p", p);
	// CHECK: BUG: KASAN: slab-out-of-bounds in write_byte+0x
	// CHECK-NEXT: {^}Write of size 1 at addr {p+16} by task {comm}/{pid}{$}
	// CHECK: {^}=================================================================={$}
	// CHECK-NEXT: {^}Kernel panic - not syncing: kasan.fault=panic set ...
	write_byte(p, (long)opaque_size(16));
	KT_MARK("survived the panic");
	// CHECK-NOT: survived the panic
	free(p);
	return 0;
}
