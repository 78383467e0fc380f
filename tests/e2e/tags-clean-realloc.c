/*
 * sw-tags clean: realloc chains. realloc always moves (a new object, a new tag), the
 * contents follow, and each step's pointer is used only until the next step. Growing,
 * shrinking, to and from large sizes, through realloc(NULL, n) and reallocarray; and
 * krealloc, which stays in place (same tag) while the cache allows.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include <kasan.h>

#include "e2e.h"

static int failures;

#define EXPECT(cond)                                                             \
	do {                                                                     \
		if (!(cond)) {                                                   \
			fprintf(stderr, "line %d: expected %s\n", __LINE__, #cond); \
			failures++;                                              \
		}                                                                \
	} while (0)

int main(void)
{
	static const size_t steps[] = { 1, 16, 17, 48, 100, 4096, 5000, 200000, 3000, 33, 15, 1 };
	char *p = realloc(NULL, opaque_size(1));

	p[0] = 'a';
	for (int round = 0; round < 4; round++) {
		size_t have = 1;

		for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
			size_t n = steps[i];
			char *q = realloc(p, opaque_size(n));

			EXPECT(q != NULL);
			for (size_t j = 0; j < (have < n ? have : n); j++)
				EXPECT(q[j] == (char)('a' + j % 26));
			for (size_t j = 0; j < n; j++)
				q[j] = (char)('a' + j % 26);
			p = q;
			have = n;
		}
	}
	free(p);

	int *a = reallocarray(NULL, opaque_size(10), sizeof(int));

	for (int i = 0; i < 10; i++)
		a[i] = i;
	a = reallocarray(a, opaque_size(1000), sizeof(int));
	for (int i = 0; i < 10; i++)
		EXPECT(a[i] == i);
	for (int i = 10; i < 1000; i++)
		a[i] = i;
	free(a);

	char *k = kmalloc(opaque_size(10), GFP_KERNEL);

	memset(k, 'k', 10);
	for (size_t n = 11; n <= 16; n++) {
		char *k2 = krealloc(k, opaque_size(n), GFP_KERNEL);

		EXPECT(k2 == k); /* in place, the same tag */
		k2[n - 1] = 'k';
		k = k2;
	}
	for (size_t n = 17; n <= 3000; n += 97) {
		k = krealloc(k, opaque_size(n), GFP_KERNEL);
		EXPECT(k[0] == 'k');
		memset(k, 'k', n);
	}
	kfree(k);
	return failures ? 1 : 0;
}
