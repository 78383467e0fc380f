/*
 * vmalloc shadow on demand from two threads at once: each allocates and frees areas
 * of 1 to 40 pages (some through __vmalloc_node with alignments up to 256 KiB) in a
 * shuffled order, past several lazy purges, so populate and release run concurrently
 * on neighbouring areas and on shadow pages they share. Every area is written whole
 * and read back through memchr; nothing is reported (a page released while an area
 * still used it would fault or read as invalid). Then an aligned area is checked: its
 * address is a multiple of its alignment and its overflow is vmalloc-out-of-bounds.
 */
// ENV: KASAN_OPTIONS=kasan.quarantine_size=0
// REPORTS: 1
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include <kasan.h>

#include "e2e.h"

enum { THREADS = 2, SLOTS = 48, ROUNDS = 4000 };

static int failures;

KT_NOINLINE char read_at(const char *p, size_t off)
{
	return *(const volatile char *)(p + off);
}

static void *worker(void *arg)
{
	uint64_t seed = 0x9e3779b97f4a7c15ull * (1 + (uintptr_t)arg);
	char *area[SLOTS] = { 0 };
	size_t size[SLOTS] = { 0 };

	for (int r = 0; r < ROUNDS; r++) {
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		int i = (int)(seed % SLOTS);
		if (area[i]) {
			if (memchr(area[i], 0, size[i]) != 0)
				__atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
			vfree(area[i]);
			area[i] = 0;
			continue;
		}
		size[i] = (1 + (seed >> 20) % 40) * 4096 - (seed >> 40) % 4000;
		if (seed & 0x100) {
			unsigned long align = 4096ul << ((seed >> 12) % 7);
			area[i] = __vmalloc_node(size[i], align, 0, -1, 0);
			if (area[i] && ((uintptr_t)area[i] & (align - 1)))
				__atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
		} else {
			area[i] = vmalloc(size[i]);
		}
		if (!area[i]) {
			__atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
			continue;
		}
		memset(area[i], 'v', size[i]);
	}
	for (int i = 0; i < SLOTS; i++)
		vfree(area[i]);
	return 0;
}

/* The churn: the failures counted (0 when clean). */
static int churn(void)
{
	pthread_t t[THREADS];

	for (uintptr_t i = 0; i < THREADS; i++)
		pthread_create(&t[i], 0, worker, (void *)i);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], 0);
	return failures;
}

/* tags-vmalloc-churn-threads.c has its own main. */
#ifndef VMALLOC_CHURN_ONLY
int main(void)
{
	if (churn())
		return 10 + failures;

	char *p = __vmalloc_node(opaque_size(3000), 1 << 20, 0, -1, 0);
	if ((uintptr_t)p & ((1 << 20) - 1))
		return 3;
	KT_ADDR("p", p);
	memset(p, 1, 3000);
	// CHECK: BUG: KASAN: vmalloc-out-of-bounds in read_at+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+3000} by task {comm}/{pid}{$}
	read_at(opaque_ptr(p), opaque_size(3000));
	kt_barrier();
	vfree(p);
	return 0;
}
#endif
