/*
 * An unaligned 4-byte load (through an aligned(1) type, which is valid C) at p + 6 of
 * an 8-byte object: bytes 6 and 7 are in bounds, 8 and 9 are not.
 *
 * What the runtime is told differs: gcc (inline and outline) and clang outline pass
 * (p + 6, 4); clang inline checks the first and the last byte separately and reports
 * the failing one, (p + 9, 4), as Linux built with clang would show it too.
 * For p + 6 the access starts inside the object ("located 6 bytes inside of") and, as
 * in Linux's kasan_find_first_bad_addr, the bad granule (type, caret) is the next one.
 * slab-oob-misaligned.c does the same through a plain (misaligned) uint32_t pointer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

typedef uint32_t __attribute__((aligned(1))) unaligned_u32;

KT_NOINLINE char *alloc_buf(size_t n)
{
	char *p = malloc(n);

	memset(p, 0, n);
	return p;
}

KT_NOINLINE uint32_t load32(const char *p)
{
	return *(const volatile unaligned_u32 *)p;
}

int main(void)
{
	char *p = alloc_buf(opaque_size(8));

	KT_ADDR("p", p);
	// CHECK: BUG: KASAN: slab-out-of-bounds in load32+0x
	// CHECK-NEXT(gcc,clang-outline): {^}Read of size 4 at addr {p+6} by task {comm}/{pid}{$}
	// CHECK-NEXT(clang-inline): {^}Read of size 4 at addr {p+9} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} load32+0x
	// CHECK: Allocated by task {pid}:
	// CHECK-NEXT: {^} malloc+0x
	// CHECK-NEXT: {^} alloc_buf+0x
	// CHECK: The buggy address belongs to the object at {p}
	// CHECK-NEXT:  which belongs to the cache kmalloc-8 of size 8
	// CHECK-NEXT(gcc,clang-outline): The buggy address is located 6 bytes inside of
	// CHECK-NEXT(clang-inline): The buggy address is located 1 bytes to the right of
	// CHECK-NEXT:  allocated 8-byte region [{p}, {p+8})
	// CHECK: {^}>{row:p+8}: 
	// CHECK-NEXT: {caret:p+8}
	uint32_t v = load32(opaque_ptr(p + 6));
	kt_barrier();
	free(p);
	return v == 12345;
}
