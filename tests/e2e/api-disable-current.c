/*
 * kasan_disable_current()/kasan_enable_current(): a bug while disabled is not
 * reported, and (as in Linux, where report_suppressed_sw() is checked before the
 * once-only bit) does not use up the single report of the default mode: the bug after
 * kasan_enable_current() is reported.
 */
#include <stdlib.h>
#include <string.h>

#include <kasan.h>

#include "e2e.h"

KT_NOINLINE char quiet_bug(const char *p, long i)
{
	return ((const volatile char *)p)[i];
}

KT_NOINLINE char loud_bug(const char *p, long i)
{
	return ((const volatile char *)p)[i];
}

int main(void)
{
	char *p = malloc(opaque_size(64));

	memset(p, 0, 64);
	KT_ADDR("p", p);
	kasan_disable_current();
	kasan_disable_current(); /* nests */
	quiet_bug(p, (long)opaque_size(64));
	kasan_enable_current();
	quiet_bug(p, (long)opaque_size(64));
	kasan_enable_current();
	// CHECK-NOT: quiet_bug
	KT_MARK("enabled again");
	// CHECK: {^}enabled again{$}
	// CHECK-NEXT: ==================================================================
	// CHECK-NEXT: BUG: KASAN: slab-out-of-bounds in loud_bug+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+65} by task {comm}/{pid}{$}
	loud_bug(p, (long)opaque_size(65));
	fprintf(stderr, "reports: %d\n", kasan_reports_count());
	// CHECK: {^}reports: 1{$}
	free(p);
	return 0;
}
