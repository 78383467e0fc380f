/*
 * sw-tags: the stack ring forgets. With kasan.stack_ring_size=1024 (the per-CPU ring's
 * minimum too) and the thread pinned to one CPU, 4096 later alloc/free events overwrite
 * the object's entries: the use-after-free is still caught (the memory tag says so) but
 * the ring has nothing for the pointer, so the report has Linux's common type,
 * invalid-access, and no tracks. The hidden kasan.stack_ring_evict=off is accepted.
 */
// ENV: KASAN_OPTIONS=kasan.stack_ring_size=1024 kasan.stack_ring_evict=off
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

#include <kasan.h>

#include "e2e.h"

KT_NOINLINE char read_byte(const char *p, size_t i)
{
	return ((const volatile char *)p)[i];
}

int main(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	sched_setaffinity(0, sizeof set, &set);
	char *p = malloc(opaque_size(200));

	free(p);
	for (int i = 0; i < 2048; i++) {
		char *q = malloc(opaque_size(24));

		q[0] = (char)i;
		free(opaque_ptr(q));
	}
	KT_ADDR("p", p);
	printf("KASAN-TEST ptag=[%02x]\n", kasan_get_tag(p));
	fflush(stdout);
	// CHECK: BUG: KASAN: invalid-access in read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+1} by task {comm}/{pid}{$}
	// CHECK-NEXT: {^}Pointer tag: {ptag}, memory tag: [0e]{$}
	// CHECK-NOT: Allocated by task
	// CHECK-NOT: Freed by task
	// CHECK-NOT: kasan: KASAN_OPTIONS
	// CHECK: which belongs to the cache kmalloc-256 of size 256
	(void)read_byte(opaque_ptr(p), opaque_size(1));
	kt_barrier();
	return 0;
}
