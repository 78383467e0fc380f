/*
 * Clean twin of the kmalloc-family bugs: every function of the kernel allocator API
 * used correctly, every byte of each object touched, never one more.
 */
#include <stdint.h>
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

KT_NOINLINE void touch(char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		((volatile char *)p)[i] = (char)i;
}

int main(void)
{
	for (size_t n = 1; n <= 9000; n += (n < 300 ? 1 : 97)) {
		char *p = kmalloc(opaque_size(n), GFP_KERNEL);

		touch(p, n);
		EXPECT(ksize(p) >= n);
		kfree(p);

		char *z = kzalloc(opaque_size(n), GFP_KERNEL);

		for (size_t i = 0; i < n; i++)
			EXPECT(z[i] == 0);
		touch(z, n);
		kfree_sensitive(z);
	}

	/* kcalloc / kmalloc_array, and their overflow checks. */
	{
		int *a = kcalloc(opaque_size(100), sizeof(int), GFP_KERNEL);
		long *b = kmalloc_array(opaque_size(33), sizeof(long), GFP_KERNEL);

		for (int i = 0; i < 100; i++)
			EXPECT(a[i] == 0);
		a[99] = 1;
		for (int i = 0; i < 33; i++)
			b[i] = i;
		EXPECT(b[32] == 32);
		kfree(a);
		kfree(b);
		EXPECT(kmalloc_array(opaque_size(SIZE_MAX / 4), 8, GFP_KERNEL) == NULL);
		EXPECT(kcalloc(opaque_size(SIZE_MAX / 4), 8, GFP_KERNEL) == NULL);
	}

	/* krealloc up and down, contents kept; krealloc(NULL) allocates. */
	{
		char *p = krealloc(NULL, 10, GFP_KERNEL);

		memcpy(p, "0123456789", 10);
		for (size_t n = 11; n < 5000; n = n * 3 / 2) {
			p = krealloc(p, opaque_size(n), GFP_KERNEL);
			EXPECT(memcmp(p, "0123456789", 10) == 0);
			touch(p + 10, n - 10);
		}
		p = krealloc(p, opaque_size(10), GFP_KERNEL);
		memcpy(p, "abcdefghij", 10);
		p = krealloc(p, opaque_size(5), GFP_KERNEL);
		EXPECT(memcmp(p, "abcde", 5) == 0);
		p[4] = 'E';
		kfree(p);
	}

	/* The quiet cases: NULL and ZERO_SIZE_PTR. */
	{
		void *z = kmalloc(0, GFP_KERNEL);

		EXPECT(z == ZERO_SIZE_PTR);
		EXPECT(ksize(z) == 0);
		kfree(z);
		kfree(NULL);
		kfree_sensitive(NULL);
		EXPECT(ksize(NULL) == 0);
	}

	/* GFP flags are accepted; __GFP_ZERO zeroes. */
	{
		char *p = kmalloc(opaque_size(200), GFP_ATOMIC | __GFP_ZERO);

		for (int i = 0; i < 200; i++)
			EXPECT(p[i] == 0);
		touch(p, 200);
		kfree(p);
		p = kmalloc(opaque_size(64), GFP_NOWAIT);
		touch(p, 64);
		kfree(p);
	}

	/* Pages and vmalloc areas, every byte. */
	for (unsigned order = 0; order < 4; order++) {
		char *p = (char *)__get_free_pages(GFP_KERNEL, order);

		touch(p, 4096ul << order);
		free_pages((unsigned long)p, order);
	}
	{
		char *v = vmalloc(opaque_size(100000));

		touch(v, 100000);
		vfree(v);
		v = vzalloc(opaque_size(5000));
		for (int i = 0; i < 5000; i++)
			EXPECT(v[i] == 0);
		touch(v, 5000);
		vfree(v);
		vfree(NULL);
	}
	return failures != 0;
}
