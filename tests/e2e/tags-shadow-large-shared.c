/*
 * sw-tags, shadow only where memory is used: a live 4 MiB kmalloc object's tag shadow
 * interior is the shared page of its random tag and, once freed, the shared page of
 * the invalid tag (kasan.stats: shadow_bytes stays a few pages, where writing the tags
 * cost 256 KiB). The checks are unchanged: every granule of the live object reads its
 * tag (the clean twin is main up to the first report: the whole object is written and
 * read without one), the granule after its rounded size is invalid, and an access to
 * the freed object's middle is an invalid-access against memory tag [0e]
 * (page-backed memory is not in the stack ring, as tags-kmalloc-large-oob.c).
 */
// ENV: KASAN_OPTIONS=kasan_multi_shot
// REPORTS: 2
#include <stdio.h>
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
	sum += read_byte(p, SIZE + 111);
	KT_ADDR("p", p);
	printf("KASAN-TEST ptag=[%02x]\n", kasan_get_tag(p));
	fflush(stdout);
	// CHECK: BUG: KASAN: invalid-access in read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+4194416} by task {comm}/{pid}{$}
	// CHECK-NEXT: {^}Pointer tag: {ptag}, memory tag: [0e]{$}
	read_byte(opaque_ptr(p), opaque_size(SIZE + 112));
	kt_barrier();
	put_obj(p);
	// CHECK: BUG: KASAN: invalid-access in read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+2097152} by task {comm}/{pid}{$}
	// CHECK-NEXT: {^}Pointer tag: {ptag}, memory tag: [0e]{$}
	read_byte(opaque_ptr(p), opaque_size(SIZE / 2));
	kt_barrier();
	return sum == 0;
}
