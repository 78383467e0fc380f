/*
 * Clean twin of the string and memory function bugs: every function on exact-fit heap
 * buffers (the NUL in the last byte, copies of exactly the object's size), overlapping
 * memmove, scans that stop at the last byte.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "e2e.h"

static int failures;

#define EXPECT(cond)                                                             \
	do {                                                                     \
		if (!(cond)) {                                                   \
			fprintf(stderr, "line %d: expected %s\n", __LINE__, #cond); \
			failures++;                                              \
		}                                                                \
	} while (0)

KT_NOINLINE char *exact(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(opaque_size(n));

	memcpy(p, s, n);
	return p;
}

int main(void)
{
	for (size_t len = 0; len < 80; len++) {
		char *src = malloc(opaque_size(len + 1));
		char *dst = malloc(opaque_size(len + 1));

		memset(src, 'a', len);
		src[len] = '\0';
		EXPECT(strlen(src) == len);
		EXPECT(strnlen(src, len + 1) == len);
		EXPECT(strnlen(src, len) == len);
		strcpy(dst, src);
		EXPECT(strcmp(dst, src) == 0);
		EXPECT(strncmp(dst, src, len + 1) == 0);
		EXPECT(memcmp(dst, src, len + 1) == 0);
		EXPECT(memchr(src, '\0', len + 1) == src + len);
		EXPECT(strchr(src, '\0') == src + len);
		EXPECT(strrchr(src, 'a') == (len ? src + len - 1 : NULL));
		memset(dst, 'b', len);
		memcpy(src, dst, len + 1);
		EXPECT(strcmp(src, dst) == 0);
		strncpy(dst, "xyz", len + 1);
		memmove(src, src + (len > 0), len);
		if (len > 1)
			memmove(src + 1, src, len - 1);
		char *dup = strdup(src);

		EXPECT(strlen(dup) == strlen(src));
		free(dup);
		dup = strndup(src, len);
		EXPECT(strlen(dup) <= len);
		free(dup);
		free(src);
		free(dst);
	}

	/* Concatenation into an exact-fit buffer. */
	{
		char *a = exact("hello, ");
		char *b = exact("kasan");
		char *c = malloc(opaque_size(strlen(a) + strlen(b) + 1));

		strcpy(c, a);
		strcat(c, b);
		EXPECT(strcmp(c, "hello, kasan") == 0);
		EXPECT(strcasecmp(c, "HELLO, KASAN") == 0);
		EXPECT(strstr(c, "kasan") == c + 7);
		EXPECT(strspn(c, "helo") == 5);
		EXPECT(strcspn(c, ",") == 5);
		char *d = malloc(13);

		EXPECT(snprintf(d, 13, "%s%s", a, b) == 12);
		EXPECT(memcmp(d, c, 13) == 0);
		free(a);
		free(b);
		free(c);
		free(d);
	}

	/* Whole-object copies and fills, from 1 byte to several pages. */
	for (size_t n = 1; n <= 20000; n = n * 2 + 1) {
		char *p = malloc(opaque_size(n));
		char *q = malloc(opaque_size(n));

		memset(p, 0x5a, n);
		memcpy(q, p, n);
		EXPECT(memcmp(p, q, n) == 0);
		memmove(q + 1, q, n - 1);
		memmove(q, q + 1, n - 1);
		EXPECT(memchr(q, 0x5a, n) == q);
		EXPECT(memchr(q, 0x11, n) == NULL);
		free(p);
		free(q);
	}

	/* Stack and global buffers, exactly full. */
	{
		static char global[16];
		char local[16];

		memset(local, 'L', sizeof local - 1);
		local[15] = '\0';
		strcpy(global, local);
		EXPECT(strlen(global) == 15);
		EXPECT(memcmp(global, local, sizeof local) == 0);
	}
	return failures != 0;
}
