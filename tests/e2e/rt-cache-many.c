/*
 * No fixed limit on caches (Linux has none): 1500 caches live at once, each with an
 * object of its own size and contents, all checked, then all destroyed and made
 * again (destroyed slots are reused). kmem_cache_create used to fail (NULL) after
 * 499 live caches.
 */
#include <kasan.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

#define N 1500

static struct kmem_cache *c[N];
static unsigned char *o[N];

static int make_all(int round)
{
	char name[32];

	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "many_%d", i);
		c[i] = kmem_cache_create(name, 16 + i % 200, 0, 0, NULL);
		if (!c[i]) {
			fprintf(stderr, "kmem_cache_create failed at cache %d\n", i);
			return 1;
		}
		o[i] = kmem_cache_alloc(c[i], GFP_KERNEL);
		if (!o[i] || ksize(o[i]) != 16 + i % 200) {
			fprintf(stderr, "kmem_cache_alloc from cache %d failed\n", i);
			return 1;
		}
		memset(o[i], (i + round) & 0xff, 16 + i % 200);
	}
	for (int i = 0; i < N; i++)
		for (int k = 0; k < 16 + i % 200; k++)
			if (o[i][k] != ((i + round) & 0xff)) {
				fprintf(stderr, "object of cache %d changed\n", i);
				return 1;
			}
	for (int i = 0; i < N; i++) {
		kmem_cache_free(c[i], o[i]);
		kmem_cache_destroy(c[i]);
	}
	return 0;
}

int main(void)
{
	for (int round = 0; round < 3; round++)
		if (make_all(round))
			return 1;
	KT_MARK("1500 caches, three times");
	return 0;
}
