/*
 * Clean twin of poison-stack-partial and poison-slab-tail: user poisoning of a partial
 * last granule leaves it alone where a granule cannot lose only a middle part (ASan's
 * rule, compiler-rt asan_poisoning.cpp): bytes 8 to 9 of a 16-byte object (bytes 10
 * to 15 stay valid), the first byte of a 2-byte array; a poisoned-then-unpoisoned
 * 2-byte array and 10-byte object are usable again; poisoning byte 9 of a 10-byte
 * object keeps byte 8. No access here is reported.
 */
#include <stdlib.h>
#include <string.h>

#include <kasan.h>

#include "e2e.h"

KT_NOINLINE char read_byte(const char *p, long i)
{
	return ((const volatile char *)p)[i];
}

KT_NOINLINE int stack_pair(void)
{
	char pair[2] = { 1, 2 };
	int sum = 0;

	__asan_poison_memory_region(pair, 1);
	sum += read_byte(opaque_ptr(pair), 0) + read_byte(opaque_ptr(pair), 1);
	__asan_poison_memory_region(pair, sizeof pair);
	__asan_unpoison_memory_region(pair, sizeof pair);
	sum += read_byte(opaque_ptr(pair), 0) + read_byte(opaque_ptr(pair), 1);
	return sum;
}

int main(void)
{
	char *big = malloc(opaque_size(16));
	char *ten = malloc(opaque_size(10));
	int sum = stack_pair();

	memset(big, 3, 16);
	memset(ten, 4, 10);
	__asan_poison_memory_region(big + 8, 2);
	for (int i = 0; i < 16; i++)
		sum += read_byte(big, i);
	__asan_poison_memory_region(ten + 9, 1);
	sum += read_byte(ten, 8);
	__asan_poison_memory_region(ten + 8, 2);
	__asan_unpoison_memory_region(ten + 8, 2);
	for (int i = 0; i < 10; i++)
		sum += read_byte(ten, i);
	free(big);
	free(ten);
	return sum == 6 + 48 + 4 + 40 ? 0 : 1;
}
