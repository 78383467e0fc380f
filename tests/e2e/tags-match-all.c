/*
 * sw-tags clean: match-all pointers are never reported. kasan_reset_tag gives the
 * pointer with the native tag (0xf), which Linux never checks ("page_address() round
 * trips"): through it the program may read a freed object and write past an
 * allocation's end without a report. Stack and global memory carry no tag at all and
 * are not checked either (x86 sw-tags has no stack or globals instrumentation). The
 * tagged pointer itself still works normally.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kasan.h>

#include "e2e.h"

static char global_buf[16];

KT_NOINLINE char read_byte(const char *p, long i)
{
	return ((const volatile char *)p)[i];
}

KT_NOINLINE void write_byte(char *p, long i, char c)
{
	((volatile char *)p)[i] = c;
}

int main(void)
{
	char *p = kmalloc(opaque_size(40), GFP_KERNEL);
	char *m = kasan_reset_tag(p);
	char stack_buf[16];
	int sum = 0;

	if (kasan_get_tag(m) != 0xf || kasan_get_tag(p) > 0xd)
		return 2;
	if (kasan_set_tag(m, kasan_get_tag(p)) != p)
		return 3;
	memset(p, 'a', 40);
	/* Past the end, through the match-all pointer: not checked. */
	write_byte(opaque_ptr(m), opaque_size(50), 'z');
	sum += read_byte(opaque_ptr(m), opaque_size(63));
	kfree(p);
	/* A freed object through the match-all pointer: not checked. */
	sum += read_byte(opaque_ptr(m), opaque_size(8));
	/* Untagged memory: the stack and globals (past their ends, too). */
	write_byte(opaque_ptr(stack_buf), opaque_size(15), 's');
	sum += read_byte(opaque_ptr(stack_buf), opaque_size(15));
	write_byte(opaque_ptr(global_buf), opaque_size(16), 'g');
	sum += read_byte(opaque_ptr(global_buf), opaque_size(17));
	/* malloc memory through its match-all pointer, in a string function. */
	char *s = malloc(opaque_size(8));

	strcpy(s, "abcdefg");
	sum += (int)strlen(kasan_reset_tag(s));
	free(s);
	printf("sum %d\n", sum);
	return 0;
}
