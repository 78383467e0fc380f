/*
 * Clean: a program maps memory of its own over freed heap memory with MAP_FIXED, uses
 * it, and unmaps it (compiler-rt's large_allocator_unpoisons_on_free, extended). The
 * mapping is the program's: nothing is reported on it, the heap never hands its pages
 * out or writes into them while it is there, and after munmap the heap takes the
 * pages back (no hole: later blocks may land there and work).
 */
// ENV: KASAN_OPTIONS=kasan.quarantine_size=0
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <kasan.h>

#include "e2e.h"

#define MAPPED (16 * 4096)

static int overlaps(char *a, size_t n, char *b, size_t m)
{
	return a < b + m && b < a + n;
}

int main(void)
{
	void *p;
	if (posix_memalign(&p, 4096, 1 << 20))
		return 1;
	memset(p, 1, 1 << 20);
	free(p);
	/* The freed block's first 64 KiB, and a file-less mapping of the program's. */
	char *q = mmap(p, MAPPED, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (q != p)
		return 2;
	for (size_t i = 0; i < MAPPED; i++)
		if (q[i] != 0)
			return 3; /* fresh anonymous memory reads zero */
	memset(q, 42, MAPPED);
	/* Mapping over it again (the program's own mapping) is allowed too. */
	if (mmap(q, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != q)
		return 4;
	memset(q, 42, 4096); /* that page is fresh again */
	/* Heap blocks of every kind stay off it meanwhile, and its bytes stay as written. */
	char *blocks[300];
	for (int i = 0; i < 300; i++) {
		size_t n = i < 100 ? 64 : i < 200 ? 5000 : (i - 199) * 4096;
		blocks[i] = malloc(n);
		if (!blocks[i] || overlaps(blocks[i], n, q, MAPPED))
			return 5;
		memset(blocks[i], i, n);
	}
	for (int i = 0; i < MAPPED; i++)
		if (q[i] != 42)
			return 6;
	for (int i = 0; i < 300; i++)
		free(blocks[i]);
	/* munmap gives the pages back to the heap: new blocks may use them. */
	if (munmap(q, MAPPED) != 0)
		return 7;
	for (int round = 0; round < 4; round++) {
		char *b[64];
		for (int i = 0; i < 64; i++) {
			b[i] = malloc(64 * 1024);
			if (!b[i])
				return 8;
			memset(b[i], round, 64 * 1024);
		}
		for (int i = 0; i < 64; i++)
			free(b[i]);
	}
	/* A range beyond anything the heap has used yet, mapped and unmapped. */
	char *far = malloc(4096);
	char *hint = (char *)(((uintptr_t)far + (256u << 20)) & ~(uintptr_t)4095);
	char *r = mmap(hint, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (r != hint)
		return 9;
	r[8191] = 1;
	if (munmap(r, 8192) != 0)
		return 10;
	free(far);
	/* Ordinary mappings elsewhere are untouched. */
	char *m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return 11;
	m[0] = m[(1 << 20) - 1] = 1;
	m = mremap(m, 1 << 20, 2 << 20, MREMAP_MAYMOVE);
	if (m == MAP_FAILED || m[0] != 1)
		return 12;
	if (munmap(m, 2 << 20) != 0)
		return 13;
	return 0;
}
