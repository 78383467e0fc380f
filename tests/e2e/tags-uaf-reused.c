/*
 * sw-tags: a stale pointer used after its slot was handed out again. The new object
 * never gets the tag its slot's previous object had, so the access through the stale
 * pointer always mismatches (Linux: a 1/14 chance to miss); the ring still holds the
 * first object's alloc and free under the stale tag, and the free is the newest of
 * them: slab-use-after-free naming the first object's stacks, not the second's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kasan.h>

#include "e2e.h"

KT_NOINLINE char *first_alloc(size_t n)
{
	char *p = malloc(n);

	memset(p, 'a', n);
	return p;
}

KT_NOINLINE void first_free(char *p)
{
	free(p);
	kt_barrier();
}

KT_NOINLINE char *second_alloc(size_t n)
{
	char *p = malloc(n);

	memset(p, 'b', n);
	return p;
}

KT_NOINLINE char read_byte(const char *p, size_t i)
{
	return ((const volatile char *)p)[i];
}

int main(void)
{
	char *p = first_alloc(opaque_size(48));
	char *q = NULL;
	char *held[64];
	int n = 0;

	first_free(p);
	/* The slot comes back at once (tag modes have no quarantine); take a few in case
	 * another free list position comes first. */
	while (n < 64) {
		q = second_alloc(opaque_size(48));
		if (kasan_reset_tag(q) == kasan_reset_tag(p))
			break;
		held[n++] = q;
		q = NULL;
	}
	if (q == NULL) {
		fprintf(stderr, "the slot was not reused\n");
		return 2;
	}
	KT_ADDR("p", p);
	KT_ADDR("u", kasan_reset_tag(p));
	printf("KASAN-TEST ptag=[%02x]\n", kasan_get_tag(p));
	printf("KASAN-TEST mtag=[%02x]\n", kasan_get_tag(q));
	fflush(stdout);
	// CHECK: BUG: KASAN: slab-use-after-free in read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+5} by task {comm}/{pid}{$}
	// CHECK-NEXT: {^}Pointer tag: {ptag}, memory tag: {mtag}{$}
	// CHECK: {^}Allocated by task {pid}:{$}
	// CHECK-NEXT: {^} malloc+0x
	// CHECK-NEXT: {^} first_alloc+0x
	// CHECK: {^}Freed by task {pid}:{$}
	// CHECK-NEXT: {^} free+0x
	// CHECK-NEXT: {^} first_free+0x
	// CHECK-NOT: second_alloc
	// CHECK: {^}The buggy address belongs to the object at {u}{$}
	// CHECK-NEXT: {^} which belongs to the cache kmalloc-64 of size 64{$}
	// CHECK-NEXT: {^}The buggy address is located 5 bytes inside of{$}
	// CHECK-NEXT: {^} 48-byte region [{u}, {u+48}){$}
	(void)read_byte(opaque_ptr(p), opaque_size(5));
	kt_barrier();
	/* The new object is intact and usable through its own pointer. */
	if (read_byte(q, 47) != 'b')
		return 3;
	free(q);
	while (n > 0)
		free(held[--n]);
	KT_MARK("done");
	// CHECK: {^}done{$}
	return 0;
}
