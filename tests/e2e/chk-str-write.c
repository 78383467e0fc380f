/*
 * The byte-by-byte string copies writing past a 5-byte destination, and reading past an
 * unterminated 8-byte source (kasan_multi_shot: one report per call, in order). As in
 * Linux's lib/string.c, byte i of the source is read, then written: the report names the
 * function itself and the first bad byte ("Write of size 1" at dst+5 for "hello"'s NUL;
 * "Read of size 1" at src+8), as Linux reports its instrumented string functions
 * (syzbot: "BUG: KASAN: slab-out-of-bounds in strscpy+0x23b/0x2a0 lib/string.c:174" /
 * "Read of size 1", Linux 6.2.0-rc7-next-20230206). Each function then carries on and
 * returns what C says (strcpy its destination, never NULL; stpcpy the end). The clean
 * twin is chk-clean.c.
 */
// RUN: -fno-builtin -Werror=implicit-function-declaration
// ENV: KASAN_OPTIONS=kasan_multi_shot
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

KT_NOINLINE char *alloc_string(size_t n, const char *s)
{
	char *p = malloc(n);

	memset(p, 0, n);
	memcpy(p, s, strnlen(s, n));
	return p;
}

#define CALL(ret, name, args, expr) \
	KT_NOINLINE ret call_##name args { ret r = expr; kt_barrier(); return r; }

CALL(char *, strcpy, (char *d, const char *s), strcpy(d, s))
CALL(char *, stpcpy, (char *d, const char *s), stpcpy(d, s))
CALL(char *, strncpy, (char *d, const char *s), strncpy(d, s, opaque_size(8)))
CALL(char *, strcat, (char *d, const char *s), strcat(d, s))
CALL(char *, strncat, (char *d, const char *s), strncat(d, s, opaque_size(3)))
CALL(void *, memccpy, (char *d, const char *s, size_t n), memccpy(d, s, 'q', n))

int main(void)
{
	char *src = alloc_string(opaque_size(16), "hello");
	char *xyz = alloc_string(opaque_size(16), "xyzw");
	char *un = malloc(opaque_size(8));
	char *big = alloc_string(opaque_size(64), "");
	char *d[6];

	memset(un, 'x', 8);
	for (int i = 0; i < 6; i++)
		d[i] = alloc_string(opaque_size(5), i >= 3 && i <= 4 ? "ab" : "");
	KT_ADDR("d0", d[0]);
	KT_ADDR("d1", d[1]);
	KT_ADDR("d2", d[2]);
	KT_ADDR("d3", d[3]);
	KT_ADDR("d4", d[4]);
	KT_ADDR("d5", d[5]);
	KT_ADDR("un", un);
	// CHECK: BUG: KASAN: slab-out-of-bounds in strcpy+0x
	// CHECK-NEXT: {^}Write of size 1 at addr {d0+5} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} strcpy+0x
	// CHECK-NEXT: {^} call_strcpy+0x
	// CHECK-NEXT: {^} main+0x
	// CHECK: {^}Allocated by task {pid}:{$}
	// CHECK-NEXT: {^} malloc+0x
	// CHECK-NEXT: {^} alloc_string+0x
	// CHECK: The buggy address belongs to the object at {d0}
	// CHECK-NEXT:  which belongs to the cache kmalloc-8 of size 8
	// CHECK-NEXT: The buggy address is located 0 bytes to the right of
	// CHECK-NEXT:  allocated 5-byte region [{d0}, {d0+5})
	// CHECK: {^}strcpy returned dst{$}
	if (call_strcpy(d[0], src) == d[0] && memcmp(d[0], "hello", 5) == 0)
		KT_MARK("strcpy returned dst");
	// CHECK: BUG: KASAN: slab-out-of-bounds in stpcpy+0x
	// CHECK-NEXT: {^}Write of size 1 at addr {d1+5} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} stpcpy+0x
	// CHECK-NEXT: {^} call_stpcpy+0x
	// CHECK: {^}stpcpy returned dst+5{$}
	if (call_stpcpy(d[1], src) == d[1] + 5)
		KT_MARK("stpcpy returned dst+5");
	// CHECK: BUG: KASAN: slab-out-of-bounds in strncpy+0x
	// CHECK-NEXT: {^}Write of size 1 at addr {d2+5} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} strncpy+0x
	// CHECK-NEXT: {^} call_strncpy+0x
	call_strncpy(d[2], src);
	// CHECK: BUG: KASAN: slab-out-of-bounds in strcat+0x
	// CHECK-NEXT: {^}Write of size 1 at addr {d3+5} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} strcat+0x
	// CHECK-NEXT: {^} call_strcat+0x
	// CHECK: {^}strcat returned dst{$}
	if (call_strcat(d[3], xyz) == d[3] && memcmp(d[3], "abxyz", 5) == 0)
		KT_MARK("strcat returned dst");
	// CHECK: BUG: KASAN: slab-out-of-bounds in strncat+0x
	// CHECK-NEXT: {^}Write of size 1 at addr {d4+5} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} strncat+0x
	// CHECK-NEXT: {^} call_strncat+0x
	call_strncat(d[4], xyz);
	// CHECK: BUG: KASAN: slab-out-of-bounds in memccpy+0x
	// CHECK-NEXT: {^}Write of size 1 at addr {d5+5} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} memccpy+0x
	// CHECK-NEXT: {^} call_memccpy+0x
	call_memccpy(d[5], src, opaque_size(8));

	/* The source side: an unterminated 8-byte string. */
	// CHECK: BUG: KASAN: slab-out-of-bounds in strcpy+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {un+8} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} strcpy+0x
	// CHECK-NEXT: {^} call_strcpy+0x
	// CHECK: {^}strcpy ended the copy at the bad byte{$}
	if (call_strcpy(big, un) == big && strlen(big) == 8)
		KT_MARK("strcpy ended the copy at the bad byte");
	// CHECK: BUG: KASAN: slab-out-of-bounds in strncpy+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {un+8} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} strncpy+0x
	// CHECK-NEXT: {^} call_strncpy+0x
	call_strncpy(big, opaque_ptr(un + 1));
	// CHECK: BUG: KASAN: slab-out-of-bounds in stpcpy+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {un+8} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} stpcpy+0x
	// CHECK-NEXT: {^} call_stpcpy+0x
	call_stpcpy(big, un);
	// CHECK: BUG: KASAN: slab-out-of-bounds in strncat+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {un+8} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} strncat+0x
	// CHECK-NEXT: {^} call_strncat+0x
	big[0] = 0;
	call_strncat(big, opaque_ptr(un + 6));
	// CHECK: BUG: KASAN: slab-out-of-bounds in memccpy+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {un+8} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} memccpy+0x
	// CHECK-NEXT: {^} call_memccpy+0x
	call_memccpy(big, un, opaque_size(16));
	// CHECK: BUG: KASAN: slab-out-of-bounds in strcat+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {un+8} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} strcat+0x
	// CHECK-NEXT: {^} call_strcat+0x
	call_strcat(un, src);
	KT_MARK("done");
	// CHECK: {^}done{$}
	return 0;
}
