/*
 * Shadow only where memory is used: a live 4 MiB kmalloc object's interior shadow is
 * the shared zero page and, once freed (quarantine off, so its pages go back at once),
 * the shared poisoned page. The checks are unchanged, so an access to the freed
 * object's middle is still the use-after-free Linux prints for freed pages
 * (KASAN_PAGE_FREE, as kmalloc-large-uaf.c), and the object's last byte and its
 * redzone behave as before. The clean twin is the run of main up to the freeing:
 * every byte of the live object is read and written without a report.
 */
// ENV: KASAN_OPTIONS=kasan.quarantine_size=0 kasan_multi_shot
// REPORTS: 2
#include <string.h>

#include <kasan.h>

#include "e2e.h"

#define SIZE (4u << 20)

KT_NOINLINE char read_byte(const char *p, size_t i)
{
	return ((const volatile char *)p)[i];
}

KT_NOINLINE void put_obj(void *p)
{
	kfree(p);
	kt_barrier();
}

int main(void)
{
	char *p = kmalloc(opaque_size(SIZE + 100), GFP_KERNEL);
	long sum = 0;

	memset(p, 'x', SIZE + 100);
	for (size_t i = 0; i < SIZE + 100; i += 4093)
		sum += read_byte(p, i);
	sum += read_byte(p, SIZE + 99);
	KT_ADDR("p", p);
	// CHECK: BUG: KASAN: slab-out-of-bounds in read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+4194404} by task {comm}/{pid}{$}
	read_byte(opaque_ptr(p), opaque_size(SIZE + 100));
	kt_barrier();
	put_obj(p);
	// CHECK: BUG: KASAN: use-after-free in read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+2097152} by task {comm}/{pid}{$}
	read_byte(opaque_ptr(p), opaque_size(SIZE / 2));
	kt_barrier();
	return sum == 0;
}
