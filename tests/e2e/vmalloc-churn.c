/*
 * vmalloc shadow on demand: areas of 1 to 100 pages, allocated and freed in a
 * shuffled order so that neighbours share shadow pages, well past the lazy purge's
 * 64 MiB, with every area's first and last byte written and its whole range read
 * by memset/memcmp. Nothing is reported (a missing populate would crash: the vmalloc
 * space's shadow is unmapped until populated). Then, after all that purging, an area
 * allocated next to a live neighbour still reports its overflow as
 * vmalloc-out-of-bounds, and a freed (not yet purged) area its use-after-free.
 */
// ENV: KASAN_OPTIONS=kasan_multi_shot kasan.quarantine_size=0
// REPORTS: 2
#include <stdint.h>
#include <string.h>

#include <kasan.h>

#include "e2e.h"

#define SLOTS 64

KT_NOINLINE char read_at(const char *p, size_t off)
{
	return *(const volatile char *)(p + off);
}

static uint64_t seed = 0x2545f4914f6cdd1dull;

static unsigned next(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return (unsigned)(seed >> 11);
}

int main(void)
{
	static char *area[SLOTS];
	static size_t size[SLOTS];

	for (int round = 0; round < 6000; round++) {
		int i = next() % SLOTS;
		if (area[i]) {
			/* A checked read of the whole area (no zero byte in it). */
			if (memchr(area[i], 0, size[i]))
				return 3;
			vfree(area[i]);
			area[i] = 0;
		} else {
			size[i] = (1 + next() % 100) * 4096 - next() % 4000;
			area[i] = vmalloc(size[i]);
			if (!area[i])
				return 2;
			memset(area[i], 'v', size[i]);
			area[i][0] = 1;
			area[i][size[i] - 1] = 2;
		}
	}
	for (int i = 0; i < SLOTS; i++)
		vfree(area[i]);

	char *a = vmalloc(opaque_size(3000));
	char *b = vmalloc(opaque_size(5000));
	KT_ADDR("b", b);
	memset(a, 1, 3000);
	memset(b, 1, 5000);
	// CHECK: BUG: KASAN: vmalloc-out-of-bounds in read_at+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {b+5000} by task {comm}/{pid}{$}
	read_at(opaque_ptr(b), opaque_size(5000));
	kt_barrier();
	vfree(a);
	KT_ADDR("a", a);
	// CHECK: BUG: KASAN: vmalloc-out-of-bounds in read_at+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {a+100} by task {comm}/{pid}{$}
	read_at(opaque_ptr(a), opaque_size(100));
	kt_barrier();
	vfree(b);
	return 0;
}
