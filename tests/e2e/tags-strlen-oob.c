/*
 * sw-tags: strlen runs off an unterminated heap buffer. malloc(40) owns 48 bytes
 * (three granules with its tag); all 48 are non-zero, so strlen's scan reaches byte 48,
 * the slot's INVALID granule. The string functions check with the pointer's tag (not
 * generic shadow): the report is in strlen, a 1-byte read at the first bad byte.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kasan.h>

#include "e2e.h"

KT_NOINLINE size_t measure(const char *s)
{
	size_t n = strlen(s);

	kt_barrier();
	return n;
}

int main(void)
{
	char *p = malloc(opaque_size(40));

	memset(p, 'x', 48);
	KT_ADDR("p", p);
	printf("KASAN-TEST ptag=[%02x]\n", kasan_get_tag(p));
	fflush(stdout);
	// CHECK: BUG: KASAN: slab-out-of-bounds in strlen+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+48} by task {comm}/{pid}{$}
	// CHECK-NEXT: {^}Pointer tag: {ptag}, memory tag: [0e]{$}
	// CHECK: Call Trace:
	// CHECK-NEXT: {^} <TASK>{$}
	// CHECK-NEXT: {^} strlen+0x
	// CHECK-NEXT: {^} measure+0x
	// CHECK: {^}Allocated by task {pid}:{$}
	// CHECK-NEXT: {^} malloc+0x
	size_t n = measure(opaque_ptr(p));

	printf("n=%zu\n", n);
	free(p);
	return 0;
}
