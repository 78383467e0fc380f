/*
 * kfree_sensitive (zeroes, then frees): a later read is a slab-use-after-free with
 * kfree_sensitive's caller as the free stack.
 */
#include <string.h>

#include <kasan.h>

#include "e2e.h"

KT_NOINLINE void destroy_secret(char *p)
{
	kfree_sensitive(p);
	kt_barrier();
}

KT_NOINLINE char read_byte(const char *p, size_t i)
{
	return ((const volatile char *)p)[i];
}

int main(void)
{
	char *p = kmalloc(opaque_size(64), GFP_KERNEL);

	memset(p, 's', 64);
	KT_ADDR("p", p);
	destroy_secret(p);
	// CHECK: BUG: KASAN: slab-use-after-free in read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+10} by task {comm}/{pid}{$}
	// CHECK: {^}Allocated by task {pid}:{$}
	// CHECK-NEXT: {^} kmalloc+0x
	// CHECK-NEXT: {^} main+0x
	// CHECK: {^}Freed by task {pid}:{$}
	// CHECK-NEXT: {^} kfree_sensitive+0x
	// CHECK-NEXT: {^} destroy_secret+0x
	// CHECK: The buggy address belongs to the object at {p}
	// CHECK-NEXT:  which belongs to the cache kmalloc-64 of size 64
	// CHECK-NEXT: The buggy address is located 10 bytes inside of
	// CHECK-NEXT:  freed 64-byte region [{p}, {p+64})
	char c = read_byte(opaque_ptr(p), opaque_size(10));
	kt_barrier();
	return c == 's';
}
