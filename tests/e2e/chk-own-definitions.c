/*
 * A program may define checked functions itself, as kernel code moved into a test
 * harness does (its own strlcpy, kstrdup) and as compiler-rt's interceptors allow (they
 * are weak): the link succeeds, the program's definitions are the ones called, and the
 * functions it does not define stay checked. The bug twin is the strnlen overflow at the
 * end; everything before it is clean.
 */
// RUN: -fno-builtin -Werror=implicit-function-declaration
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <kasan.h>

#include "e2e.h"

static int own_calls;

/* Linux's strlcpy, written as a harness would carry it. */
size_t strlcpy(char *dest, const char *src, size_t size)
{
	size_t ret = strlen(src);

	own_calls++;
	if (size) {
		size_t len = ret >= size ? size - 1 : ret;

		memcpy(dest, src, len);
		dest[len] = '\0';
	}
	return ret;
}

char *kstrdup(const char *s, gfp_t gfp)
{
	size_t len;
	char *p;

	own_calls++;
	if (!s)
		return NULL;
	len = strlen(s) + 1;
	p = kmalloc(len, gfp);
	if (p)
		memcpy(p, s, len);
	return p;
}

KT_NOINLINE size_t call_strnlen(const char *s, size_t n)
{
	size_t r = strnlen(s, n);

	kt_barrier();
	return r;
}

int main(void)
{
	char buf[8];
	char *dup, *p;

	if (strlcpy(buf, "overlong", sizeof(buf)) != 8 || strcmp(buf, "overlo" "n"))
		return 10;
	dup = kstrdup("abc", GFP_KERNEL);
	if (!dup || strcmp(dup, "abc"))
		return 11;
	kfree(dup);
	if (own_calls != 2)
		return 12;

	p = kmalloc(opaque_size(4), GFP_KERNEL);
	memcpy(p, "abcd", 4);
	KT_ADDR("p", p);
	KT_MARK("strnlen");
	// CHECK: strnlen
	// CHECK: BUG: KASAN: slab-out-of-bounds in strnlen+0x{*}/0x
	// CHECK-NEXT: Read of size 1 at addr {p+4} by task
	call_strnlen(p, opaque_size(16));
	kfree(p);
	return 0;
}
