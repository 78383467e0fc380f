/*
 * Each checked memory and string function given a freed object (kasan_multi_shot: one
 * report per call, in order). The header names the caller, the access kind is the
 * freed argument's (read for sources and scanned strings, write for destinations).
 * Where a function stops scanning depends on what the freed memory now holds (the
 * runtime may keep metadata there, as Linux does), so those sizes are not checked.
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
	// CHECK: BUG: KASAN: slab-use-after-free in call_strlen+0x
	// CHECK-NEXT: {^}Read of size {*} at addr {f4} by task {comm}/{pid}{$}
	call_strlen(freed_string("f4"));
	// CHECK: BUG: KASAN: slab-use-after-free in call_strcpy+0x
	// CHECK-NEXT: {^}Read of size {*} at addr {f5} by task {comm}/{pid}{$}
	call_strcpy(ok, freed_string("f5"));
	// CHECK: BUG: KASAN: slab-use-after-free in call_strcmp+0x
	// CHECK-NEXT: {^}Read of size {*} at addr {f6} by task {comm}/{pid}{$}
	call_strcmp(freed_string("f6"), ok);
	// CHECK: BUG: KASAN: slab-use-after-free in call_memcmp+0x
	// CHECK-NEXT: {^}Read of size 8 at addr {f7} by task {comm}/{pid}{$}
	call_memcmp(freed_string("f7"), ok);
	// CHECK: BUG: KASAN: slab-use-after-free in call_memchr+0x
	// CHECK-NEXT: {^}Read of size {*} at addr {f8} by task {comm}/{pid}{$}
	call_memchr(freed_string("f8"));
	KT_MARK("done");
	// CHECK: {^}done{$}
	free(ok);
	return 0;
}
