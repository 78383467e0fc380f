/*
 * libc's tokenisers, searches and number parsers (not in Linux; ASan intercepts them:
 * compiler-rt's strtok.c, strcasestr-*.c, memmem_test.cpp, atoi_strict.c, strtol_strict.c)
 * on an unterminated 8-byte object, kasan_multi_shot: one report per call, in order.
 * The scanners and parsers read byte by byte, as the string functions Linux builds
 * from instrumented C: the report names the function, "Read of size 1" at the first bad
 * byte (the form of syzbot's "BUG: KASAN: slab-out-of-bounds in strlen+0x7d/0xa0
 * lib/string.c:418" / "Read of size 1 at addr ...", Linux 6.7.0-rc7); strcasestr is
 * built on strlen as Linux's strstr is, so its report is in strlen with strcasestr
 * below. memmem checks both ranges whole at entry (ASan's rule): the report names the
 * caller, of the whole haystack. Each parser then returns the number its good bytes
 * spell. glibc's <stdlib.h> inlines atoi, atol and atoll at -O1 as calls of strtol and
 * strtoll, so their reports are in those, with the inline frame below. The clean twin is
 * chk-clean.c (parsing()).
 */
// RUN: -fno-builtin -Werror=implicit-function-declaration
// ENV: KASAN_OPTIONS=kasan_multi_shot
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

KT_NOINLINE char *alloc_filled(size_t n, int c)
{
	char *p = malloc(n);

	memset(p, c, n);
	return p;
}

#define CALL(ret, name, args, expr) \
	KT_NOINLINE ret call_##name args { ret r = expr; kt_barrier(); return r; }

CALL(char *, strtok, (char *s), strtok(s, ","))
CALL(char *, strtok_r, (char *s), ({ char *save; strtok_r(s, ",", &save); }))
CALL(char *, strcasestr, (const char *s), strcasestr(s, "Y"))
CALL(void *, memmem, (const char *s), memmem(s, opaque_size(9), "y", 1))
CALL(int, atoi, (const char *s), atoi(s))
CALL(long, atol, (const char *s), atol(s))
CALL(long long, atoll, (const char *s), atoll(s))
CALL(long, strtol, (const char *s, char **e), strtol(s, e, 0))
CALL(long long, strtoll, (const char *s), strtoll(s, NULL, 10))
CALL(unsigned long, strtoul, (const char *s), strtoul(s, NULL, 16))
CALL(unsigned long long, strtoull, (const char *s), strtoull(s, NULL, 8))

int main(void)
{
	char *p = alloc_filled(opaque_size(8), 'x');
	char *d = alloc_filled(opaque_size(8), '1');
	char *end;

	KT_ADDR("p", p);
	KT_ADDR("d", d);
	// CHECK: BUG: KASAN: slab-out-of-bounds in strtok+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+8} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} strtok+0x
	// CHECK-NEXT: {^} call_strtok+0x
	// CHECK-NEXT: {^} main+0x
	// CHECK: {^}Allocated by task {pid}:{$}
	// CHECK-NEXT: {^} malloc+0x
	// CHECK-NEXT: {^} alloc_filled+0x
	// CHECK: The buggy address belongs to the object at {p}
	// CHECK-NEXT:  which belongs to the cache kmalloc-8 of size 8
	// CHECK-NEXT: The buggy address is located 0 bytes to the right of
	// CHECK-NEXT:  allocated 8-byte region [{p}, {p+8})
	// CHECK: {^}strtok returned p{$}
	if (call_strtok(p) == p)
		KT_MARK("strtok returned p");
	// CHECK: BUG: KASAN: slab-out-of-bounds in strtok_r+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+8} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} strtok_r+0x
	// CHECK-NEXT: {^} call_strtok_r+0x
	call_strtok_r(p);
	// CHECK: BUG: KASAN: slab-out-of-bounds in strlen+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+8} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} strlen+0x
	// CHECK-NEXT: {^} strcasestr+0x
	// CHECK-NEXT: {^} call_strcasestr+0x
	call_strcasestr(p);
	// CHECK: BUG: KASAN: slab-out-of-bounds in call_memmem+0x
	// CHECK-NEXT: {^}Read of size 9 at addr {p} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} call_memmem+0x
	// CHECK-NEXT: {^} main+0x
	// CHECK: {^}memmem returned NULL{$}
	if (call_memmem(p) == NULL)
		KT_MARK("memmem returned NULL");
	// CHECK: BUG: KASAN: slab-out-of-bounds in strtol+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {d+8} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} strtol+0x
	// CHECK-NEXT: {^} atoi /usr/include/stdlib.h:{*} [inline]
	// CHECK-NEXT: {^} call_atoi+0x
	// CHECK: {^}atoi returned 11111111{$}
	if (call_atoi(d) == 11111111)
		KT_MARK("atoi returned 11111111");
	// CHECK: BUG: KASAN: slab-out-of-bounds in strtol+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {d+8} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} strtol+0x
	// CHECK-NEXT: {^} atol /usr/include/stdlib.h:{*} [inline]
	call_atol(d);
	// CHECK: BUG: KASAN: slab-out-of-bounds in strtoll+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {d+8} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} strtoll+0x
	// CHECK-NEXT: {^} atoll /usr/include/stdlib.h:{*} [inline]
	call_atoll(d);
	// CHECK: BUG: KASAN: slab-out-of-bounds in strtol+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {d+8} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} strtol+0x
	// CHECK-NEXT: {^} call_strtol+0x
	// CHECK: {^}strtol returned 11111111, end d+8{$}
	if (call_strtol(d, &end) == 11111111 && end == d + 8)
		KT_MARK("strtol returned 11111111, end d+8");
	// CHECK: BUG: KASAN: slab-out-of-bounds in strtoll+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {d+8} by task {comm}/{pid}{$}
	call_strtoll(d);
	// CHECK: BUG: KASAN: slab-out-of-bounds in strtoul+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {d+8} by task {comm}/{pid}{$}
	// CHECK: {^}strtoul returned 0x11111111{$}
	if (call_strtoul(d) == 0x11111111)
		KT_MARK("strtoul returned 0x11111111");
	// CHECK: BUG: KASAN: slab-out-of-bounds in strtoull+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {d+8} by task {comm}/{pid}{$}
	call_strtoull(d);
	// REPORTS: 11
	return 0;
}
