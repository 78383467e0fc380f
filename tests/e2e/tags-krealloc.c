/*
 * sw-tags: krealloc in place keeps the pointer and its tag (Linux: kasan_krealloc
 * unpoisons the new size with the object's tag and poisons the rest of the slot), and
 * re-records the allocation in the ring: a read past the new size is
 * slab-out-of-bounds whose "Allocated by" is the krealloc.
 */
#include <stdio.h>
#include <string.h>

#include <kasan.h>

#include "e2e.h"

KT_NOINLINE char *get_obj(size_t n)
{
	char *p = kmalloc(n, GFP_KERNEL);

	kt_barrier();
	return p;
}

KT_NOINLINE char *shrink(char *p, size_t n)
{
	char *q = krealloc(p, n, GFP_KERNEL);

	kt_barrier();
	return q;
}

KT_NOINLINE char read_byte(const char *p, size_t i)
{
	return ((const volatile char *)p)[i];
}

int main(void)
{
	char *p = get_obj(opaque_size(100));

	memset(p, 'k', 100);
	char *q = shrink(p, opaque_size(20));

	KT_ADDR("p", q);
	KT_ADDR("u", kasan_reset_tag(q));
	printf("KASAN-TEST ptag=[%02x]\n", kasan_get_tag(q));
	printf("KASAN-TEST same=%d\n", q == p);
	fflush(stdout);
	// CHECK: BUG: KASAN: slab-out-of-bounds in read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+32} by task {comm}/{pid}{$}
	// CHECK-NEXT: {^}Pointer tag: {ptag}, memory tag: [0e]{$}
	// CHECK: {^}Allocated by task {pid}:{$}
	// CHECK-NEXT: {^} krealloc+0x
	// CHECK-NEXT: {^} shrink+0x
	// CHECK-NOT: Freed by task
	// CHECK: {^}The buggy address belongs to the object at {u}{$}
	// CHECK-NEXT: {^} which belongs to the cache kmalloc-128 of size 128{$}
	// CHECK-NEXT: {^}The buggy address is located 0 bytes to the right of{$}
	// CHECK-NEXT: {^} 32-byte region [{u}, {u+32}){$}
	(void)read_byte(opaque_ptr(q), opaque_size(32));
	kt_barrier();
	if (q != p || read_byte(q, 19) != 'k')
		return 2;
	kfree(q);
	return 0;
}
