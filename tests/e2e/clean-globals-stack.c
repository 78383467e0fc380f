/*
 * Clean twin of the global and stack bugs: globals and stack arrays indexed up to
 * their last element (reads and writes, every width), structs copied whole,
 * unaligned in-bounds accesses that cross a granule, big frames, recursion.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

int global_ints[10];
static char global_name[13] = "hello, kasan";
const char global_const[7] = "abcdef";
static uint64_t global_u64[3] = { 1, 2, 3 };

struct record {
	char tag[3];
	int value;
	short small[5];
};

struct record global_records[4];

typedef uint32_t __attribute__((aligned(1))) unaligned_u32;
typedef uint64_t __attribute__((aligned(1))) unaligned_u64;

KT_NOINLINE long sum_ints(const int *a, long n)
{
	long s = 0;

	for (long i = 0; i < n; i++)
		s += ((const volatile int *)a)[i];
	return s;
}

KT_NOINLINE long stack_frame(long n)
{
	char bytes[40];
	int ints[7];
	uint64_t words[5];
	struct record rec;
	struct record copy;

	for (long i = 0; i < (long)sizeof bytes; i++)
		((volatile char *)bytes)[i] = (char)i;
	for (long i = 0; i < 7; i++)
		((volatile int *)ints)[i] = (int)(i * n);
	for (long i = 0; i < 5; i++)
		((volatile uint64_t *)words)[i] = (uint64_t)i;
	memset(&rec, 0, sizeof rec);
	rec.small[4] = 4;
	memcpy(&copy, opaque_ptr(&rec), sizeof copy);
	copy.tag[2] = 'z';
	long s = bytes[39] + sum_ints(ints, 7) + (long)words[4] + copy.small[4];
	/* Unaligned, in bounds, crossing a granule boundary. */
	s += *(const volatile unaligned_u32 *)(bytes + 6);
	s += (long)*(const volatile unaligned_u64 *)(bytes + 32);
	return s;
}

KT_NOINLINE long recurse(int depth)
{
	char frame[100];

	memset(frame, depth, sizeof frame);
	if (depth == 0)
		return frame[99];
	return frame[0] + recurse(depth - 1) + frame[99];
}

KT_NOINLINE long big_frame(void)
{
	char page[8192];

	memset(page, 1, sizeof page);
	return ((volatile char *)page)[8191];
}

int main(void)
{
	for (int i = 0; i < 10; i++)
		((volatile int *)global_ints)[i] = i;
	long s = sum_ints(opaque_ptr(global_ints), 10);

	s += ((volatile char *)global_name)[12];
	s += ((const volatile char *)global_const)[6];
	s += (long)((volatile uint64_t *)global_u64)[2];
	for (int i = 0; i < 4; i++) {
		struct record r = { "ab", i, { 1, 2, 3, 4, 5 } };

		global_records[i] = r;
	}
	s += global_records[3].small[4];
	s += *(const volatile unaligned_u32 *)((char *)opaque_ptr(global_u64) + 6);
	for (int i = 0; i < 100; i++)
		s += stack_frame(i);
	s += recurse(50);
	s += big_frame();

	/* Heap: unaligned in-bounds loads crossing granules. */
	char *p = malloc(opaque_size(16));

	memset(p, 1, 16);
	s += *(const volatile unaligned_u32 *)(p + 6);
	s += (long)*(const volatile unaligned_u64 *)(p + 8);
	s += *(const volatile unaligned_u32 *)(p + 12);
	free(p);
	printf("sum %ld\n", s);
	return 0;
}
