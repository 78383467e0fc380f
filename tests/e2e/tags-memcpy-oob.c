/*
 * sw-tags: a memcpy one granule too long. clang's -hwasan-kernel-mem-intrinsic-prefix
 * turns the call into __hwasan_memcpy, which checks both ranges at entry (Linux's
 * kasan_check_range): the report names the caller, a write of the whole size at the
 * destination, and nothing is copied.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kasan.h>

#include "e2e.h"

KT_NOINLINE void copy(char *d, const char *s, size_t n)
{
	memcpy(d, s, n);
	kt_barrier();
}

int main(void)
{
	char *d = malloc(opaque_size(40));
	char *s = malloc(opaque_size(100));

	memset(s, 's', 100);
	memset(d, 'd', 40);
	KT_ADDR("d", d);
	KT_ADDR("u", kasan_reset_tag(d));
	printf("KASAN-TEST ptag=[%02x]\n", kasan_get_tag(d));
	fflush(stdout);
	// CHECK: BUG: KASAN: slab-out-of-bounds in copy+0x
	// CHECK-NEXT: {^}Write of size 49 at addr {d} by task {comm}/{pid}{$}
	// CHECK-NEXT: {^}Pointer tag: {ptag}, memory tag: [0e]{$}
	// CHECK: Call Trace:
	// CHECK-NEXT: {^} <TASK>{$}
	// CHECK-NEXT: {^} copy+0x
	// CHECK: {^}Memory state around the buggy address:{$}
	// CHECK: {^}>{row:u+48}: 
	// CHECK-NEXT: {caret:u+48}
	copy(d, s, opaque_size(49));
	if (d[0] != 'd')
		return 2;
	free(s);
	free(d);
	return 0;
}
