/*
 * The README's demo: a heap buffer overflow by one byte.
 *
 *   target/release/kasan cc -g -O1 examples/oob.c -o /tmp/oob && /tmp/oob
 *
 * dup_name() forgets the room for the terminating NUL, so storing it writes one byte
 * past a 13-byte allocation. kasan reports a slab-out-of-bounds write of size 1,
 * "0 bytes to the right of allocated 13-byte region" in the kmalloc-16 cache, then the
 * program goes on (kasan.fault=report) and exits 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Not static and not inlined: the report's first frame is this function, and the
 * compiler cannot fold the call away. */
__attribute__((noinline)) char *dup_name(const char *name)
{
	size_t len = strlen(name);
	char *copy = malloc(len); /* BUG: should be len + 1 */

	if (!copy)
		return NULL;
	for (size_t i = 0; i < len; i++)
		copy[i] = name[i];
	copy[len] = '\0'; /* one byte past the end: kasan reports here */
	return copy;
}

int main(void)
{
	char *s = dup_name("hello, kasan!"); /* 13 characters */

	if (!s)
		return 1;
	/* Using the copy keeps the compiler from eliding the allocation. */
	puts(s);
	free(s);
	return 0;
}
