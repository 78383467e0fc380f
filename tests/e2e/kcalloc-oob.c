/*
 * kcalloc: 10 elements of 12 bytes (120 bytes, zeroed); an 8-byte read right after
 * them.
 */
#include <stdint.h>
#include <string.h>

#include <kasan.h>

#include "e2e.h"

KT_NOINLINE uint64_t read_u64(const char *p, size_t off)
{
	return *(const volatile uint64_t *)(p + off);
}

int main(void)
{
	char *p = kcalloc(opaque_size(10), 12, GFP_KERNEL);

	KT_ADDR("p", p);
	// CHECK: BUG: KASAN: slab-out-of-bounds in read_u64+0x
	// CHECK-NEXT: {^}Read of size 8 at addr {p+120} by task {comm}/{pid}{$}
	// CHECK: {^}Allocated by task {pid}:{$}
	// CHECK-NEXT: {^} kcalloc+0x
	// CHECK-NEXT: {^} main+0x
	// CHECK: The buggy address belongs to the object at {p}
	// CHECK-NEXT:  which belongs to the cache kmalloc-128 of size 128
	// CHECK-NEXT: The buggy address is located 0 bytes to the right of
	// CHECK-NEXT:  allocated 120-byte region [{p}, {p+120})
	// CHECK: {^}>{row:p+120}: 
	// CHECK-NEXT: {caret:p+120}
	uint64_t v = read_u64(p, opaque_size(120));
	kt_barrier();
	kfree(p);
	return v == 12345;
}
