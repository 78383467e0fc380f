/*
 * String functions given a NULL-page pointer or a non-canonical one (0xdead000000000000)
 * report as memset of the same pointer does (null-ptr-deref, wild-memory-access), and
 * the program goes on (kasan_multi_shot): a scan never reads a byte without shadow.
 * memset names its caller (a range check at entry, as Linux's); the string functions
 * name themselves and the first byte read ("Read of size 1"), as Linux's instrumented
 * lib/string.c does. strcpy still returns its destination.
 */
// ENV: KASAN_OPTIONS=kasan_multi_shot
#include <string.h>

#include "e2e.h"

KT_NOINLINE void call_memset(char *p) { memset(p, 0, opaque_size(8)); kt_barrier(); }
KT_NOINLINE size_t call_strlen(const char *s) { size_t n = strlen(s); kt_barrier(); return n; }
KT_NOINLINE char *call_strcpy(char *dst, const char *src) { char *r = strcpy(dst, src); kt_barrier(); return r; }
KT_NOINLINE int call_strcmp(const char *a, const char *b) { int r = strcmp(a, b); kt_barrier(); return r; }
KT_NOINLINE char *call_strchr(const char *s) { char *r = strchr(s, 'x'); kt_barrier(); return r; }
KT_NOINLINE size_t call_strnlen(const char *s) { size_t n = strnlen(s, opaque_size(100)); kt_barrier(); return n; }
KT_NOINLINE int call_memcmp(const char *a, const char *b) { int r = memcmp(a, b, opaque_size(4)); kt_barrier(); return r; }

int main(void)
{
	char buf[32] = "hello";
	const char *ptrs[2] = { opaque_ptr((void *)0), opaque_ptr((void *)0xdead000000000000UL) };
	for (int i = 0; i < 2; i++) {
		char *p = (char *)ptrs[i];

		call_memset(p);
		KT_NUM("n", call_strlen(p));
		KT_NUM("cpy", call_strcpy(buf, p) == buf);
		KT_NUM("cmp", call_strcmp(buf, p) == 0);
		KT_NUM("chr", call_strchr(p) == NULL);
		KT_NUM("nlen", call_strnlen(p));
		KT_NUM("mcmp", call_memcmp(p, buf) == 0);
	}
	// CHECK: BUG: KASAN: null-ptr-deref in call_memset+0x
	// CHECK-NEXT: {^}Write of size 8 at addr 0000000000000000 by task {comm}/{pid}{$}
	// CHECK: BUG: KASAN: null-ptr-deref in strlen+0x
	// CHECK-NEXT: {^}Read of size 1 at addr 0000000000000000 by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} strlen+0x
	// CHECK-NEXT: {^} call_strlen+0x
	// CHECK-NEXT: {^} main+0x
	// CHECK: BUG: KASAN: null-ptr-deref in strcpy+0x
	// CHECK-NEXT: {^}Read of size 1 at addr 0000000000000000 by task {comm}/{pid}{$}
	// CHECK: BUG: KASAN: null-ptr-deref in strcmp+0x
	// CHECK-NEXT: {^}Read of size 1 at addr 0000000000000000 by task {comm}/{pid}{$}
	// CHECK: BUG: KASAN: null-ptr-deref in strchr+0x
	// CHECK-NEXT: {^}Read of size 1 at addr 0000000000000000 by task {comm}/{pid}{$}
	// CHECK: BUG: KASAN: null-ptr-deref in strnlen+0x
	// CHECK-NEXT: {^}Read of size 1 at addr 0000000000000000 by task {comm}/{pid}{$}
	// CHECK: BUG: KASAN: null-ptr-deref in memcmp+0x
	// CHECK-NEXT: {^}Read of size 1 at addr 0000000000000000 by task {comm}/{pid}{$}
	// CHECK: BUG: KASAN: wild-memory-access in call_memset+0x
	// CHECK-NEXT: {^}Write of size 8 at addr dead000000000000 by task {comm}/{pid}{$}
	// CHECK: BUG: KASAN: wild-memory-access in strlen+0x
	// CHECK-NEXT: {^}Read of size 1 at addr dead000000000000 by task {comm}/{pid}{$}
	// CHECK: BUG: KASAN: wild-memory-access in strcpy+0x
	// CHECK-NEXT: {^}Read of size 1 at addr dead000000000000 by task {comm}/{pid}{$}
	// CHECK: BUG: KASAN: wild-memory-access in strcmp+0x
	// CHECK-NEXT: {^}Read of size 1 at addr dead000000000000 by task {comm}/{pid}{$}
	// CHECK: BUG: KASAN: wild-memory-access in strchr+0x
	// CHECK-NEXT: {^}Read of size 1 at addr dead000000000000 by task {comm}/{pid}{$}
	// CHECK: BUG: KASAN: wild-memory-access in strnlen+0x
	// CHECK-NEXT: {^}Read of size 1 at addr dead000000000000 by task {comm}/{pid}{$}
	// CHECK: BUG: KASAN: wild-memory-access in memcmp+0x
	// CHECK-NEXT: {^}Read of size 1 at addr dead000000000000 by task {comm}/{pid}{$}
	// REPORTS: 14
	KT_MARK("went on");
	// CHECK: {^}went on{$}
	return 0;
}
