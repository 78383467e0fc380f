/*
 * The byte-by-byte string and memory scans reading past an unterminated 8-byte object
 * (kasan_multi_shot: one report per call, in order). Linux implements these in
 * lib/string.c as instrumented C, so each report names the function itself, its frame
 * tops the trace, and the access is the first bad byte, "Read of size 1" (syzbot:
 * "BUG: KASAN: slab-out-of-bounds in strlen+0x7d/0xa0 lib/string.c:418" / "Read of
 * size 1 at addr ffff8881119c4781", Linux 6.7.0-rc7, bond_option_arp_ip_targets_set;
 * "BUG: KASAN: use-after-free in strcmp+0x6f/0xc0 lib/string.c:283" / "Read of size 1",
 * Linux 6.16.0-rc6). memcmp compares a word at a time while 8 bytes remain, so its
 * 16-byte compare reads the bad word: "Read of size 8" (syzbot: "BUG: KASAN:
 * slab-out-of-bounds in memcmp+0x16f/0x1c0 lib/string.c:757" / "Read of size 8",
 * Linux 6.0.0-rc2); with 9 bytes its byte loop reads the bad byte. strstr is built on
 * strlen, as Linux's is: the report is in strlen, strstr below it (as kstrdup below
 * strlen in syzbot's "strlen+0x58/0x70" / "kstrdup+0x20/0x80", CVE-2024-56650), and so
 * are strdup and strndup (libc's, built here as Linux's kstrdup/kstrndup). Each
 * function then carries on and returns as if the string ended at the bad byte.
 * The clean twin is chk-clean.c.
 */
// RUN: -fno-builtin -Werror=implicit-function-declaration
// ENV: KASAN_OPTIONS=kasan_multi_shot
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "e2e.h"

KT_NOINLINE char *alloc_filled(size_t n, int c)
{
	char *p = malloc(n);

	memset(p, c, n);
	return p;
}

#define CALL(ret, name, args, expr) \
	KT_NOINLINE ret call_##name args { ret r = expr; kt_barrier(); return r; }

CALL(size_t, strlen, (const char *s), strlen(s))
CALL(size_t, strnlen, (const char *s), strnlen(s, opaque_size(100)))
CALL(int, strcmp, (const char *a, const char *b), strcmp(a, b))
CALL(int, strncmp, (const char *a, const char *b), strncmp(a, b, opaque_size(100)))
CALL(int, strcasecmp, (const char *a, const char *b), strcasecmp(a, b))
CALL(int, strncasecmp, (const char *a, const char *b), strncasecmp(a, b, opaque_size(100)))
CALL(char *, strchr, (const char *s), strchr(s, 'y'))
CALL(char *, strrchr, (const char *s), strrchr(s, 'x'))
CALL(char *, strstr, (const char *s), strstr(s, "zz"))
CALL(size_t, strspn, (const char *s), strspn(s, "x"))
CALL(size_t, strcspn, (const char *s), strcspn(s, "y"))
CALL(char *, strpbrk, (const char *s), strpbrk(s, "y"))
CALL(void *, memchr, (const char *s), memchr(s, 'y', opaque_size(9)))
CALL(int, memcmp_word, (const char *a, const char *b), memcmp(a, b, opaque_size(16)))
CALL(int, memcmp_byte, (const char *a, const char *b), memcmp(a, b, opaque_size(9)))
CALL(int, bcmp, (const char *a, const char *b), bcmp(a, b, opaque_size(9)))
CALL(char *, strdup, (const char *s), strdup(s))
CALL(char *, strndup, (const char *s), strndup(s, opaque_size(20)))

int main(void)
{
	char *p = alloc_filled(opaque_size(8), 'x');
	char *q = alloc_filled(opaque_size(32), 'x');

	q[31] = 0;
	KT_ADDR("p", p);
	// CHECK: BUG: KASAN: slab-out-of-bounds in strlen+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+8} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} strlen+0x
	// CHECK-NEXT: {^} call_strlen+0x
	// CHECK-NEXT: {^} main+0x
	// CHECK: {^}Allocated by task {pid}:{$}
	// CHECK-NEXT: {^} malloc+0x
	// CHECK-NEXT: {^} alloc_filled+0x
	// CHECK: The buggy address belongs to the object at {p}
	// CHECK-NEXT:  which belongs to the cache kmalloc-8 of size 8
	// CHECK-NEXT: The buggy address is located 0 bytes to the right of
	// CHECK-NEXT:  allocated 8-byte region [{p}, {p+8})
	// CHECK: {^}>{row:p+8}: 
	// CHECK-NEXT: {caret:p+8}
	// CHECK: {^}strlen returned 8{$}
	if (call_strlen(p) == 8)
		KT_MARK("strlen returned 8");
	// CHECK: BUG: KASAN: slab-out-of-bounds in strnlen+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+8} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} strnlen+0x
	// CHECK-NEXT: {^} call_strnlen+0x
	call_strnlen(p);
	// CHECK: BUG: KASAN: slab-out-of-bounds in strcmp+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+8} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} strcmp+0x
	// CHECK-NEXT: {^} call_strcmp+0x
	call_strcmp(p, q);
	// CHECK: BUG: KASAN: slab-out-of-bounds in strncmp+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+8} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} strncmp+0x
	// CHECK-NEXT: {^} call_strncmp+0x
	call_strncmp(q, p);
	// CHECK: BUG: KASAN: slab-out-of-bounds in strcasecmp+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+8} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} strcasecmp+0x
	// CHECK-NEXT: {^} call_strcasecmp+0x
	call_strcasecmp(p, q);
	// CHECK: BUG: KASAN: slab-out-of-bounds in strncasecmp+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+8} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} strncasecmp+0x
	// CHECK-NEXT: {^} call_strncasecmp+0x
	call_strncasecmp(p, q);
	// CHECK: BUG: KASAN: slab-out-of-bounds in strchr+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+8} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} strchr+0x
	// CHECK-NEXT: {^} call_strchr+0x
	call_strchr(p);
	// CHECK: BUG: KASAN: slab-out-of-bounds in strrchr+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+8} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} strrchr+0x
	// CHECK-NEXT: {^} call_strrchr+0x
	call_strrchr(p);
	// CHECK: BUG: KASAN: slab-out-of-bounds in strlen+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+8} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} strlen+0x
	// CHECK-NEXT: {^} strstr+0x
	// CHECK-NEXT: {^} call_strstr+0x
	call_strstr(p);
	// CHECK: BUG: KASAN: slab-out-of-bounds in strspn+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+8} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} strspn+0x
	// CHECK-NEXT: {^} call_strspn+0x
	call_strspn(p);
	// CHECK: BUG: KASAN: slab-out-of-bounds in strcspn+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+8} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} strcspn+0x
	// CHECK-NEXT: {^} call_strcspn+0x
	call_strcspn(p);
	// CHECK: BUG: KASAN: slab-out-of-bounds in strpbrk+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+8} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} strpbrk+0x
	// CHECK-NEXT: {^} call_strpbrk+0x
	call_strpbrk(p);
	// CHECK: BUG: KASAN: slab-out-of-bounds in memchr+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+8} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} memchr+0x
	// CHECK-NEXT: {^} call_memchr+0x
	call_memchr(p);
	// CHECK: BUG: KASAN: slab-out-of-bounds in memcmp+0x
	// CHECK-NEXT: {^}Read of size 8 at addr {p+8} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} memcmp+0x
	// CHECK-NEXT: {^} call_memcmp_word+0x
	call_memcmp_word(p, q);
	// CHECK: BUG: KASAN: slab-out-of-bounds in memcmp+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+8} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} memcmp+0x
	// CHECK-NEXT: {^} call_memcmp_byte+0x
	call_memcmp_byte(q, p);
	// CHECK: BUG: KASAN: slab-out-of-bounds in memcmp+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+8} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} memcmp+0x
	// CHECK-NEXT: {^} bcmp+0x
	// CHECK-NEXT: {^} call_bcmp+0x
	call_bcmp(p, q);
	// CHECK: BUG: KASAN: slab-out-of-bounds in strlen+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+8} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} strlen+0x
	// CHECK-NEXT: {^} strdup+0x
	// CHECK-NEXT: {^} call_strdup+0x
	// CHECK: {^}strdup copied the 8 good bytes{$}
	char *dup = call_strdup(p);
	if (dup && memcmp(dup, "xxxxxxxx", 9) == 0)
		KT_MARK("strdup copied the 8 good bytes");
	// CHECK: BUG: KASAN: slab-out-of-bounds in strnlen+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+8} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} strnlen+0x
	// CHECK-NEXT: {^} strndup+0x
	// CHECK-NEXT: {^} call_strndup+0x
	call_strndup(p);
	KT_MARK("done");
	// CHECK: {^}done{$}
	free(p);
	free(q);
	return 0;
}
