/*
 * The clean twin of rt-str-memchr-huge and rt-str-null-wild: scans with huge bounds
 * that find what they look for inside the object (memchr, strnlen, strncmp, strncpy
 * with SIZE_MAX), strings of every length 0..200 at every alignment 0..15 (so every
 * step boundary of the checked scan is crossed), strchr/strrchr of the terminator,
 * and the same functions on stack and global strings: all silent.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

static char global[] = "a global string, long enough to cross one 64-byte step of shadow";

KT_NOINLINE int scans(const char *s, size_t len)
{
	int bad = 0;

	bad |= strlen(s) != len;
	bad |= strnlen(s, opaque_size(SIZE_MAX)) != len;
	bad |= memchr(s, 0, opaque_size(SIZE_MAX)) != s + len;
	bad |= strchr(s, 0) != s + len;
	bad |= strrchr(s, 0) != s + len;
	bad |= strcmp(s, s) != 0;
	bad |= strncmp(s, s, opaque_size(SIZE_MAX)) != 0;
	if (len > 0) {
		bad |= strchr(s, s[len - 1]) == NULL;
		bad |= strrchr(s, s[0]) == NULL;
		bad |= memchr(s, s[len - 1], opaque_size(SIZE_MAX)) == NULL;
	}
	return bad;
}

int main(void)
{
	int bad = 0;
	char stack[300];

	for (size_t len = 0; len <= 200; len++) {
		for (size_t align = 0; align < 16; align++) {
			char *p = malloc(opaque_size(len + 1 + align));
			char *s = p + align;

			memset(s, 'a' + (int)(len % 26), len);
			s[len] = 0;
			bad |= scans(s, len);
			char *copy = malloc(opaque_size(len + 1));
			strcpy(copy, s);
			bad |= strcmp(copy, s) != 0;
			strncpy(copy, s, len + 1);
			bad |= memcmp(copy, s, len + 1) != 0;
			free(copy);
			free(p);
		}
	}
	memset(stack, 'z', 299);
	stack[299] = 0;
	bad |= scans(stack, 299);
	bad |= scans(global, strlen(global));
	KT_NUM("bad", bad);
	return bad;
}
