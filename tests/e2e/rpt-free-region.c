/*
 * The region line of double-free and invalid-free reports is the bare "N-byte
 * region": Linux's describe_object_addr (mm/kasan/report.c) adds the state word
 * ("allocated "/"freed ") in generic mode only when the bug type is
 * slab-out-of-bounds or slab-use-after-free (the strcmp on info->bug_type there),
 * so a double-free or invalid-free prints " 32-byte region [...)" as in syzkaller's
 * pkg/report/testdata/linux/report/652 ("The buggy address is located 0 bytes
 * inside of" / " 32-byte region [ffff8801c95e2880, ffff8801c95e28a0)").
 * Multi-shot: a double free, an interior (invalid) free, then a use-after-free
 * whose region keeps "freed ".
 */
// ENV: KASAN_OPTIONS=kasan_multi_shot
#include <stdlib.h>

#include "e2e.h"

KT_NOINLINE void release(void *p)
{
	free(p);
	kt_barrier();
}

KT_NOINLINE char read_byte(const char *p, size_t i)
{
	return ((const volatile char *)p)[i];
}

int main(void)
{
	char *a = malloc(opaque_size(500));
	char *b = malloc(opaque_size(200));

	KT_ADDR("a", a);
	KT_ADDR("b", b);
	release(a);
	// CHECK: BUG: KASAN: double-free in release+0x
	// CHECK-NEXT: {^}Free of addr {a} by task {comm}/{pid}{$}
	// CHECK: The buggy address belongs to the object at {a}
	// CHECK-NEXT: {^} which belongs to the cache kmalloc-512 of size 512{$}
	// CHECK-NEXT: {^}The buggy address is located 0 bytes inside of{$}
	// CHECK-NEXT: {^} 512-byte region [{a}, {a+512}){$}
	release(opaque_ptr(a));
	// CHECK: BUG: KASAN: invalid-free in release+0x
	// CHECK-NEXT: {^}Free of addr {b+8} by task {comm}/{pid}{$}
	// CHECK: The buggy address belongs to the object at {b}
	// CHECK-NEXT: {^} which belongs to the cache kmalloc-256 of size 256{$}
	// CHECK-NEXT: {^}The buggy address is located 8 bytes inside of{$}
	// CHECK-NEXT: {^} 200-byte region [{b}, {b+200}){$}
	release(opaque_ptr(b + 8));
	// CHECK: BUG: KASAN: slab-use-after-free in read_byte+0x
	// CHECK: {^}The buggy address is located 3 bytes inside of{$}
	// CHECK-NEXT: {^} freed 512-byte region [{a}, {a+512}){$}
	read_byte(opaque_ptr(a), opaque_size(3));
	kt_barrier();
	free(b);
	return 0;
}
