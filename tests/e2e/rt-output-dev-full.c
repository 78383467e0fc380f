/*
 * kasan.log_path=/dev/full: the write fails (ENOSPC). One line on stderr says so,
 * and the report goes to stderr instead: never lost. Later reports go to stderr too.
 */
// ENV: KASAN_OPTIONS=kasan_multi_shot kasan.log_path=/dev/full
#include <stdlib.h>

#include <kasan.h>

#include "e2e.h"

KT_NOINLINE void write_byte(char *p, long i)
{
	((volatile char *)p)[i] = 0;
}

int main(void)
{
	char *p = malloc(opaque_size(16));

	KT_ADDR("p", p);
	// CHECK: {^}kasan: cannot write to kasan.log_path '/dev/full': errno 28; reports go to stderr{$}
	// CHECK-NEXT: {^}=================================================================={$}
	// CHECK-NEXT: BUG: KASAN: slab-out-of-bounds in write_byte+0x
	// CHECK-NEXT: {^}Write of size 1 at addr {p+16} by task {comm}/{pid}{$}
	// CHECK: {^}=================================================================={$}
	write_byte(p, (long)opaque_size(16));
	// CHECK-NEXT: {^}=================================================================={$}
	// CHECK-NEXT: BUG: KASAN: slab-out-of-bounds in write_byte+0x
	// CHECK-NEXT: {^}Write of size 1 at addr {p+17} by task {comm}/{pid}{$}
	// CHECK: {^}=================================================================={$}
	write_byte(p, (long)opaque_size(17));
	if (kasan_reports_count() == 2)
		KT_MARK("2 reports");
	else
		KT_MARK("wrong count");
	// CHECK-NEXT: {^}2 reports{$}
	free(p);
	return 0;
}
