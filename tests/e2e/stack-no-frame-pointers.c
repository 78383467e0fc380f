/*
 * Code built without frame pointers: the frame-pointer walk breaks at once, and the
 * runtime falls back to scanning the stack for return addresses, so the allocation
 * stack still names the allocating function and its caller.
 */
// RUN: -fomit-frame-pointer
#include <stdlib.h>

#include "e2e.h"

KT_NOINLINE char *make(size_t n)
{
	char *p = malloc(n);

	p[0] = 0;
	return p;
}

KT_NOINLINE char read_at(const char *p, size_t off)
{
	return *(const volatile char *)(p + off);
}

int main(void)
{
	char *p = make(opaque_size(10));

	KT_ADDR("p", p);
	// CHECK: BUG: KASAN: slab-out-of-bounds in read_at+0x
	// CHECK: {^}Allocated by task {pid}:{$}
	// CHECK-NEXT: {^} malloc+0x
	// CHECK-NEXT: {^} make+0x
	// CHECK-NEXT: {^} main+0x
	read_at(opaque_ptr(p), opaque_size(10));
	kt_barrier();
	free(p);
	return 0;
}
