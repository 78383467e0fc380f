/*
 * Each checked memory and string function given a freed object (kasan_multi_shot: one
 * report per call, in order). The mem* intrinsics check their ranges at entry, as
 * Linux's mm/kasan/shadow.c ones do: the header names the caller and the whole range.
 * The others are instrumented C in Linux (lib/string.c): the header names the
 * function itself, at its first bad access, which for a freed object is its first
 * byte (a word for memcmp, which compares 8 bytes at a time: syzbot's "BUG: KASAN:
 * slab-out-of-bounds in memcmp+0x16f/0x1c0 lib/string.c:757" / "Read of size 8",
 * Linux 6.0.0-rc2, __fscache_acquire_volume).
 */
// ENV: KASAN_OPTIONS=kasan_multi_shot
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

KT_NOINLINE char *freed_string(const char *name)
{
	char *p = malloc(opaque_size(32));

	memset(p, 0, 32);
	strcpy(p, "sixteen chars!!!");
	KT_ADDR(name, p);
	free(p);
	kt_barrier();
	return opaque_ptr(p);
}

KT_NOINLINE void call_memcpy(char *dst, const char *src) { memcpy(dst, src, opaque_size(8)); kt_barrier(); }
KT_NOINLINE void call_memset(char *p) { memset(p, 0, opaque_size(8)); kt_barrier(); }
KT_NOINLINE void call_memmove(char *dst, const char *src) { memmove(dst, src, opaque_size(8)); kt_barrier(); }
KT_NOINLINE size_t call_strlen(const char *s) { size_t n = strlen(s); kt_barrier(); return n; }
KT_NOINLINE void call_strcpy(char *dst, const char *src) { strcpy(dst, src); kt_barrier(); }
KT_NOINLINE int call_strcmp(const char *a, const char *b) { int r = strcmp(a, b); kt_barrier(); return r; }
KT_NOINLINE int call_memcmp(const char *a, const char *b) { int r = memcmp(a, b, opaque_size(8)); kt_barrier(); return r; }
KT_NOINLINE const void *call_memchr(const char *s) { const void *r = memchr(s, 'Q', opaque_size(8)); kt_barrier(); return r; }

int main(void)
{
	char *ok = malloc(opaque_size(64));

	memset(ok, 0, 64);
	strcpy(ok, "sixteen chars!!?");

	// CHECK: BUG: KASAN: slab-use-after-free in call_memcpy+0x
	// CHECK-NEXT: {^}Read of size 8 at addr {f1} by task {comm}/{pid}{$}
	// CHECK: {^}Freed by task {pid}:{$}
	// CHECK-NEXT: {^} free+0x
	// CHECK-NEXT: {^} freed_string+0x
	// CHECK: {^}=================================================================={$}
	call_memcpy(ok, freed_string("f1"));
	// CHECK: BUG: KASAN: slab-use-after-free in call_memset+0x
	// CHECK-NEXT: {^}Write of size 8 at addr {f2} by task {comm}/{pid}{$}
	call_memset(freed_string("f2"));
	// CHECK: BUG: KASAN: slab-use-after-free in call_memmove+0x
	// CHECK-NEXT: {^}Write of size 8 at addr {f3} by task {comm}/{pid}{$}
	call_memmove(freed_string("f3"), ok);
	// CHECK: BUG: KASAN: slab-use-after-free in strlen+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {f4} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} strlen+0x
	// CHECK-NEXT: {^} call_strlen+0x
	call_strlen(freed_string("f4"));
	// CHECK: BUG: KASAN: slab-use-after-free in strcpy+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {f5} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} strcpy+0x
	// CHECK-NEXT: {^} call_strcpy+0x
	call_strcpy(ok, freed_string("f5"));
	// CHECK: BUG: KASAN: slab-use-after-free in strcmp+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {f6} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} strcmp+0x
	// CHECK-NEXT: {^} call_strcmp+0x
	call_strcmp(freed_string("f6"), ok);
	// CHECK: BUG: KASAN: slab-use-after-free in memcmp+0x
	// CHECK-NEXT: {^}Read of size 8 at addr {f7} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} memcmp+0x
	// CHECK-NEXT: {^} call_memcmp+0x
	call_memcmp(freed_string("f7"), ok);
	// CHECK: BUG: KASAN: slab-use-after-free in memchr+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {f8} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} memchr+0x
	// CHECK-NEXT: {^} call_memchr+0x
	call_memchr(freed_string("f8"));
	KT_MARK("done");
	// CHECK: {^}done{$}
	free(ok);
	return 0;
}
