/*
 * Clean twin of the heap bugs: heavy valid use of the malloc family, every byte of
 * every object touched (never one more). No report, exit 0. The program checks its
 * own data and exits non-zero if something was lost.
 */
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

static int failures;

#define EXPECT(cond)                                                             \
	do {                                                                     \
		if (!(cond)) {                                                   \
			fprintf(stderr, "line %d: expected %s\n", __LINE__, #cond); \
			failures++;                                              \
		}                                                                \
	} while (0)

KT_NOINLINE void fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(seed + i);
}

KT_NOINLINE int same(const unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (unsigned char)(seed + i))
			return 0;
	return 1;
}

static const size_t sizes[] = { 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 95, 96, 97,
				127, 128, 129, 191, 192, 193, 255, 256, 257, 511, 512, 513, 1000,
				1024, 1025, 2047, 2048, 2049, 4095, 4096, 4097, 8191, 8192, 8193,
				10000, 65536, 100000, 1 << 20 };
#define NSIZES (sizeof sizes / sizeof sizes[0])

int main(void)
{
	/* malloc: every size, all bytes written and read back; the last byte too. */
	for (int round = 0; round < 3; round++) {
		unsigned char *p[NSIZES];

		for (size_t i = 0; i < NSIZES; i++) {
			p[i] = malloc(opaque_size(sizes[i]));
			EXPECT(p[i] != NULL);
			EXPECT(((uintptr_t)p[i] & 7) == 0);
			EXPECT(malloc_usable_size(p[i]) >= sizes[i]);
			fill(p[i], sizes[i], (unsigned)(i + round));
		}
		for (size_t i = 0; i < NSIZES; i++) {
			EXPECT(same(p[i], sizes[i], (unsigned)(i + round)));
			EXPECT(p[i][sizes[i] - 1] == (unsigned char)(i + round + sizes[i] - 1));
			free(p[i]);
		}
	}

	/* malloc(0) may return NULL or a unique pointer; both may be freed. */
	free(malloc(opaque_size(0)));
	free(NULL);

	/* calloc: zeroed, every element; overflow is refused. */
	for (size_t i = 0; i < NSIZES; i++) {
		size_t n = sizes[i];
		unsigned char *p = calloc(opaque_size(n), 1);

		for (size_t j = 0; j < n; j++)
			EXPECT(p[j] == 0);
		free(p);
	}
	{
		int *a = calloc(opaque_size(1000), sizeof(int));

		for (int i = 0; i < 1000; i++)
			a[i] = i;
		EXPECT(a[999] == 999);
		free(a);
		/* Through opaque_ptr: clang folds "calloc(...) == NULL" of an unused result. */
		void *huge = opaque_ptr(calloc(opaque_size(SIZE_MAX / 2), 4));

		EXPECT(huge == NULL);
		free(huge);
	}

	/* realloc: grow and shrink across caches and into pages, contents kept. */
	{
		size_t n = 1;
		unsigned char *p = realloc(NULL, n);

		fill(p, n, 7);
		for (int step = 0; step < 18; step++) {
			size_t m = n * 2 + (size_t)step;
			unsigned char *q = realloc(p, opaque_size(m));

			EXPECT(q != NULL);
			EXPECT(same(q, n, 7));
			fill(q, m, 7);
			p = q;
			n = m;
		}
		while (n > 3) {
			size_t m = n / 3;
			unsigned char *q = realloc(p, opaque_size(m));

			EXPECT(same(q, m, 7));
			q[m - 1] ^= 0;
			p = q;
			n = m;
		}
		free(p);
	}

	/* Aligned allocations: alignment honoured, every byte usable. */
	for (size_t align = 8; align <= 8192; align *= 2) {
		void *p = NULL;
		size_t n = align * 3 + 5;

		EXPECT(posix_memalign(&p, align, n) == 0);
		EXPECT(((uintptr_t)p & (align - 1)) == 0);
		fill(p, n, 1);
		EXPECT(same(p, n, 1));
		free(p);

		unsigned char *q = aligned_alloc(align, align * 2);

		EXPECT(((uintptr_t)q & (align - 1)) == 0);
		fill(q, align * 2, 2);
		EXPECT(q[align * 2 - 1] == (unsigned char)(2 + align * 2 - 1));
		free(q);

		unsigned char *r = memalign(align, 100);

		EXPECT(((uintptr_t)r & (align - 1)) == 0);
		fill(r, 100, 3);
		EXPECT(same(r, 100, 3));
		free(r);
	}

	/* Churn: many objects of mixed sizes, freed in a scrambled order, reused. */
	{
		enum { N = 4096 };
		static unsigned char *objs[N];
		static size_t lens[N];
		unsigned seed = 12345;

		for (int round = 0; round < 4; round++) {
			for (int i = 0; i < N; i++) {
				seed = seed * 1103515245u + 12345u;
				lens[i] = 1 + (seed >> 8) % 700;
				objs[i] = malloc(lens[i]);
				fill(objs[i], lens[i], (unsigned)i);
			}
			for (int i = 0; i < N; i++) {
				int j = (i * 7919) % N;

				EXPECT(same(objs[j], lens[j], (unsigned)j));
				free(objs[j]);
			}
		}
	}
	return failures != 0;
}
