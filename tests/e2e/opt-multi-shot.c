/*
 * kasan_multi_shot: every bug is reported, not only the first. Three different bugs,
 * three reports, in order, and the program goes on after each.
 */
// ENV: KASAN_OPTIONS=kasan_multi_shot
#include <stdlib.h>
#include <string.h>

#include <kasan.h>

#include "e2e.h"

KT_NOINLINE char read_byte(const char *p, long i)
{
	return ((const volatile char *)p)[i];
}

KT_NOINLINE void write_byte(char *p, long i)
{
	((volatile char *)p)[i] = 0;
}

int main(void)
{
	char *p = malloc(opaque_size(16));
	char *q = malloc(opaque_size(16));

	memset(p, 0, 16);
	KT_ADDR("p", p);
	KT_ADDR("q", q);
	// CHECK: BUG: KASAN: slab-out-of-bounds in read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+16} by task {comm}/{pid}{$}
	// CHECK: {^}=================================================================={$}
	read_byte(p, (long)opaque_size(16));
	KT_MARK("after the first report");
	// CHECK-NEXT: after the first report
	// CHECK-NEXT: ==================================================================
	// CHECK-NEXT: BUG: KASAN: slab-out-of-bounds in write_byte+0x
	// CHECK-NEXT: {^}Write of size 1 at addr {p-1} by task {comm}/{pid}{$}
	// CHECK: {^}=================================================================={$}
	write_byte(p, -(long)opaque_size(1));
	KT_MARK("after the second report");
	// CHECK-NEXT: after the second report
	free(q);
	// CHECK-NEXT: ==================================================================
	// CHECK-NEXT: BUG: KASAN: slab-use-after-free in read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {q+3} by task {comm}/{pid}{$}
	// CHECK: {^}=================================================================={$}
	read_byte(opaque_ptr(q), (long)opaque_size(3));
	fprintf(stderr, "reports: %d\n", kasan_reports_count());
	// CHECK-NEXT: {^}reports: 3{$}
	free(p);
	return 0;
}
