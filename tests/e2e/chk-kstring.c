/*
 * Linux's kernel string API (include/kasan.h), each given a bad buffer (kasan_multi_shot:
 * one report per call, in order), checked as Linux's instrumented implementation is:
 * strscpy, memscan, strnchr are byte loops (report in the function, first bad byte,
 * size 1: syzbot's "BUG: KASAN: slab-out-of-bounds in strscpy+0x23b/0x2a0
 * lib/string.c:174" / "Read of size 1", Linux 6.2.0-rc7-next-20230206); strlcpy,
 * strlcat, kstrdup, kstrndup, kmemdup, strsep are built on strlen/strnlen/strpbrk and a
 * range-checked memcpy, so their reports come from those: in strlen with kstrdup below
 * (syzbot's "strlen+0x58/0x70" / "kstrdup+0x20/0x80", CVE-2024-56650), in kmemdup for
 * its memcpy ("BUG: KASAN: slab-out-of-bounds in kmemdup+0x3e/0x50" / "Read of size
 * 3014656", Linux 5.14, brcmf_get_assoc_ies). The clean twin is chk-clean.c.
 */
// RUN: -fno-builtin -Werror=implicit-function-declaration
// ENV: KASAN_OPTIONS=kasan_multi_shot
#include <stdlib.h>
#include <string.h>
#include <kasan.h>

#include "e2e.h"

KT_NOINLINE char *alloc_string(size_t n, const char *s)
{
	char *p = kmalloc(n, GFP_KERNEL);

	memset(p, 0, n);
	memcpy(p, s, strnlen(s, n));
	return p;
}

#define CALL(ret, name, args, expr) \
	KT_NOINLINE ret call_##name args { ret r = expr; kt_barrier(); return r; }

CALL(ssize_t, strscpy, (char *d, const char *s, size_t n), strscpy(d, s, n))
CALL(size_t, strlcpy, (char *d, const char *s, size_t n), strlcpy(d, s, n))
CALL(size_t, strlcat, (char *d, const char *s, size_t n), strlcat(d, s, n))
CALL(char *, kstrdup, (const char *s), kstrdup(s, GFP_KERNEL))
CALL(char *, kstrndup, (const char *s), kstrndup(s, opaque_size(20), GFP_KERNEL))
CALL(void *, kmemdup, (const char *s), kmemdup(s, opaque_size(20), GFP_KERNEL))
CALL(void *, memscan, (char *s), memscan(s, 'y', opaque_size(9)))
CALL(char *, strnchr, (const char *s), strnchr(s, opaque_size(20), 'y'))
CALL(char *, strsep, (char **s), strsep(s, ","))

int main(void)
{
	char *un = kmalloc(opaque_size(8), GFP_KERNEL);
	char *src = alloc_string(opaque_size(16), "hello");
	char *big = alloc_string(opaque_size(64), "");
	char *d0 = alloc_string(opaque_size(5), "");
	char *d1 = alloc_string(opaque_size(5), "");
	char *d2 = alloc_string(opaque_size(5), "ab");
	char **pp = kmalloc(sizeof(char *), GFP_KERNEL);
	char *cursor = un;

	memset(un, 'x', 8);
	kfree(pp);
	KT_ADDR("un", un);
	KT_ADDR("src", src);
	KT_ADDR("d0", d0);
	KT_ADDR("d1", d1);
	KT_ADDR("d2", d2);
	KT_ADDR("pp", pp);
	// CHECK: BUG: KASAN: slab-out-of-bounds in strscpy+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {un+8} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} strscpy+0x
	// CHECK-NEXT: {^} call_strscpy+0x
	// CHECK-NEXT: {^} main+0x
	// CHECK: The buggy address belongs to the object at {un}
	// CHECK-NEXT:  which belongs to the cache kmalloc-8 of size 8
	// CHECK-NEXT: The buggy address is located 0 bytes to the right of
	// CHECK-NEXT:  allocated 8-byte region [{un}, {un+8})
	// CHECK: {^}strscpy returned 8{$}
	if (call_strscpy(big, un, 32) == 8)
		KT_MARK("strscpy returned 8");
	// CHECK: BUG: KASAN: slab-out-of-bounds in strscpy+0x
	// CHECK-NEXT: {^}Write of size 1 at addr {d0+5} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} strscpy+0x
	// CHECK-NEXT: {^} call_strscpy+0x
	// CHECK: {^}strscpy returned -E2BIG, "hell"{$}
	if (call_strscpy(d0, src, 8) == -7 && strcmp(d0, "hell") == 0)
		KT_MARK("strscpy returned -E2BIG, \"hell\"");
	// CHECK: BUG: KASAN: slab-out-of-bounds in strlen+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {un+8} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} strlen+0x
	// CHECK-NEXT: {^} strlcpy+0x
	// CHECK-NEXT: {^} call_strlcpy+0x
	call_strlcpy(big, un, 32);
	// CHECK: BUG: KASAN: slab-out-of-bounds in strlcpy+0x
	// CHECK-NEXT: {^}Write of size 1 at addr {d1+5} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} strlcpy+0x
	// CHECK-NEXT: {^} call_strlcpy+0x
	call_strlcpy(d1, src, 8);
	// CHECK: BUG: KASAN: slab-out-of-bounds in strlcat+0x
	// CHECK-NEXT: {^}Write of size 4 at addr {d2+2} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} strlcat+0x
	// CHECK-NEXT: {^} call_strlcat+0x
	// CHECK: {^}strlcat returned 6{$}
	if (call_strlcat(d2, opaque_ptr(src + 1), 8) == 6)
		KT_MARK("strlcat returned 6");
	// CHECK: BUG: KASAN: slab-out-of-bounds in strlen+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {un+8} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} strlen+0x
	// CHECK-NEXT: {^} kstrdup+0x
	// CHECK-NEXT: {^} call_kstrdup+0x
	// CHECK: {^}kstrdup returned the 8 good bytes{$}
	char *dup = call_kstrdup(un);
	if (dup && strlen(dup) == 8)
		KT_MARK("kstrdup returned the 8 good bytes");
	// CHECK: BUG: KASAN: slab-out-of-bounds in strnlen+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {un+8} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} strnlen+0x
	// CHECK-NEXT: {^} kstrndup+0x
	// CHECK-NEXT: {^} call_kstrndup+0x
	call_kstrndup(un);
	// CHECK: BUG: KASAN: slab-out-of-bounds in kmemdup+0x
	// CHECK-NEXT: {^}Read of size 20 at addr {src} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} kmemdup+0x
	// CHECK-NEXT: {^} call_kmemdup+0x
	// CHECK: The buggy address belongs to the object at {src}
	// CHECK-NEXT:  which belongs to the cache kmalloc-16 of size 16
	// CHECK-NEXT: The buggy address is located 0 bytes inside of
	// CHECK-NEXT:  allocated 16-byte region [{src}, {src+16})
	call_kmemdup(src);
	// CHECK: BUG: KASAN: slab-out-of-bounds in memscan+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {un+8} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} memscan+0x
	// CHECK-NEXT: {^} call_memscan+0x
	// CHECK: {^}memscan returned addr + size{$}
	if (call_memscan(un) == un + 9)
		KT_MARK("memscan returned addr + size");
	// CHECK: BUG: KASAN: slab-out-of-bounds in strnchr+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {un+8} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} strnchr+0x
	// CHECK-NEXT: {^} call_strnchr+0x
	call_strnchr(un);
	// CHECK: BUG: KASAN: slab-out-of-bounds in strpbrk+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {un+8} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} strpbrk+0x
	// CHECK-NEXT: {^} strsep+0x
	// CHECK-NEXT: {^} call_strsep+0x
	call_strsep(&cursor);
	// CHECK: BUG: KASAN: slab-use-after-free in strsep+0x
	// CHECK-NEXT: {^}Read of size 8 at addr {pp} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} strsep+0x
	// CHECK-NEXT: {^} call_strsep+0x
	call_strsep(opaque_ptr(pp));
	KT_MARK("done");
	// CHECK: {^}done{$}
	return 0;
}
