/*
 * kasan.log_path: reports are appended to the file instead of standard error.
 */
// ENV: KASAN_OPTIONS=kasan.log_path={tmpdir}/kasan.log
// LOG: kasan.log
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
	// CHECK: ==================================================================
	// CHECK-NEXT: BUG: KASAN: slab-out-of-bounds in write_byte+0x
	// CHECK-NEXT: {^}Write of size 1 at addr {p+16} by task {comm}/{pid}{$}
	// CHECK: The buggy address belongs to the object at {p}
	// CHECK: {^}>{row:p+16}: 
	// CHECK-NEXT: {caret:p+16}
	// CHECK-NEXT: {^} {row:p+144}: 
	// CHECK-NEXT: {^} {row:p+272}: 
	// CHECK-NEXT: {^}=================================================================={$}
	write_byte(p, (long)opaque_size(16));
	/* Not in the log: this goes to stderr. */
	KT_MARK("went on after the report");
	// CHECK-NOT: went on after the report
	free(p);
	return 0;
}
