/*
 * The checked printf family (kasan_multi_shot: one report per call, in order). As ASan's
 * interceptors do with their printf-format parser, the format string is read through
 * its NUL and each %s argument through its NUL (or precision), each %n target written;
 * then the destination of sprintf (its formatted length and NUL), snprintf (all `size`
 * bytes) and asprintf (the result pointer). Reports are range reports naming the caller,
 * the bytes read up to and including the first bad one, as the other libc buffer
 * functions' (chk-io.c). After a report nothing is printed and the call returns -1.
 * The clean twin is chk-clean.c.
 */
// RUN: -fno-builtin -Werror=implicit-function-declaration
// ENV: KASAN_OPTIONS=kasan_multi_shot
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

KT_NOINLINE int call_printf(const char *s) { int r = printf("[%s]\n", s); kt_barrier(); return r; }
KT_NOINLINE int call_printf_fmt(const char *fmt) { int r = printf(fmt); kt_barrier(); return r; }
KT_NOINLINE int call_printf_prec(const char *s) { int r = printf("[%.9s]\n", s); kt_barrier(); return r; }
KT_NOINLINE int call_printf_n(int *n) { int r = printf("%d%n\n", 7, n); kt_barrier(); return r; }
KT_NOINLINE int call_fprintf(const char *s) { int r = fprintf(stdout, "%d %s\n", 1, s); kt_barrier(); return r; }
KT_NOINLINE int call_dprintf(const char *s) { int r = dprintf(1, "%5.1f %s\n", 2.5, s); kt_barrier(); return r; }
KT_NOINLINE int call_sprintf(char *b) { int r = sprintf(b, "%s", "0123456789"); kt_barrier(); return r; }
KT_NOINLINE int call_snprintf(char *b) { int r = snprintf(b, opaque_size(11), "%d", 1); kt_barrier(); return r; }
KT_NOINLINE int call_asprintf(char **p) { int r = asprintf(p, "%d", 1); kt_barrier(); return r; }

KT_NOINLINE int call_vprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int r = vprintf(fmt, ap);
	va_end(ap);
	kt_barrier();
	return r;
}

KT_NOINLINE int call_vfprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int r = vfprintf(stdout, fmt, ap);
	va_end(ap);
	kt_barrier();
	return r;
}

KT_NOINLINE int call_vdprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int r = vdprintf(1, fmt, ap);
	va_end(ap);
	kt_barrier();
	return r;
}

KT_NOINLINE int call_vasprintf(char **p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int r = vasprintf(p, fmt, ap);
	va_end(ap);
	kt_barrier();
	return r;
}

KT_NOINLINE int call_vsnprintf(char *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int r = vsnprintf(b, opaque_size(11), fmt, ap);
	va_end(ap);
	kt_barrier();
	return r;
}

KT_NOINLINE int call_vsprintf(char *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int r = vsprintf(b, fmt, ap);
	va_end(ap);
	kt_barrier();
	return r;
}

int main(void)
{
	char *freed = malloc(opaque_size(16));
	char *un = malloc(opaque_size(8));
	char *b = malloc(opaque_size(10));
	int *n = malloc(sizeof(int));
	char **pp = malloc(sizeof(char *));

	strcpy(freed, "a freed string");
	memset(un, 'x', 8);
	free(freed);
	free(n);
	free(pp);
	KT_ADDR("freed", freed);
	KT_ADDR("un", un);
	KT_ADDR("b", b);
	KT_ADDR("n", n);
	KT_ADDR("pp", pp);
	// CHECK: BUG: KASAN: slab-use-after-free in call_printf+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {freed} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} call_printf+0x
	// CHECK-NEXT: {^} main+0x
	// CHECK: The buggy address belongs to the object at {freed}
	// CHECK-NEXT:  which belongs to the cache kmalloc-16 of size 16
	// CHECK-NEXT: The buggy address is located 0 bytes inside of
	// CHECK-NEXT:  freed 16-byte region [{freed}, {freed+16})
	// CHECK: {^}printf returned -1{$}
	if (call_printf(freed) == -1)
		KT_MARK("printf returned -1");
	// CHECK: BUG: KASAN: slab-out-of-bounds in call_printf_fmt+0x
	// CHECK-NEXT: {^}Read of size 9 at addr {un} by task {comm}/{pid}{$}
	// CHECK: The buggy address is located 0 bytes inside of
	// CHECK-NEXT:  allocated 8-byte region [{un}, {un+8})
	call_printf_fmt(un);
	// CHECK: BUG: KASAN: slab-out-of-bounds in call_printf_prec+0x
	// CHECK-NEXT: {^}Read of size 9 at addr {un} by task {comm}/{pid}{$}
	call_printf_prec(un);
	// CHECK: BUG: KASAN: slab-use-after-free in call_printf_n+0x
	// CHECK-NEXT: {^}Write of size 4 at addr {n} by task {comm}/{pid}{$}
	call_printf_n(n);
	// CHECK: BUG: KASAN: slab-use-after-free in call_fprintf+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {freed} by task {comm}/{pid}{$}
	call_fprintf(freed);
	// CHECK: BUG: KASAN: slab-use-after-free in call_dprintf+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {freed} by task {comm}/{pid}{$}
	call_dprintf(freed);
	// CHECK: BUG: KASAN: slab-use-after-free in call_vprintf+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {freed} by task {comm}/{pid}{$}
	call_vprintf("%d %f %s\n", 3, 4.5, freed);
	// CHECK: BUG: KASAN: slab-use-after-free in call_vfprintf+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {freed} by task {comm}/{pid}{$}
	call_vfprintf("%s\n", freed);
	// CHECK: BUG: KASAN: slab-use-after-free in call_vdprintf+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {freed} by task {comm}/{pid}{$}
	call_vdprintf("%s\n", freed);
	// CHECK: BUG: KASAN: slab-out-of-bounds in call_sprintf+0x
	// CHECK-NEXT: {^}Write of size 11 at addr {b} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} call_sprintf+0x
	// CHECK: The buggy address is located 0 bytes inside of
	// CHECK-NEXT:  allocated 10-byte region [{b}, {b+10})
	call_sprintf(b);
	// CHECK: BUG: KASAN: slab-out-of-bounds in call_vsprintf+0x
	// CHECK-NEXT: {^}Write of size 11 at addr {b} by task {comm}/{pid}{$}
	call_vsprintf(b, "%s%d", "012345678", 9);
	// CHECK: BUG: KASAN: slab-out-of-bounds in call_snprintf+0x
	// CHECK-NEXT: {^}Write of size 11 at addr {b} by task {comm}/{pid}{$}
	call_snprintf(b);
	// CHECK: BUG: KASAN: slab-out-of-bounds in call_vsnprintf+0x
	// CHECK-NEXT: {^}Write of size 11 at addr {b} by task {comm}/{pid}{$}
	call_vsnprintf(b, "%d", 1);
	// CHECK: BUG: KASAN: slab-use-after-free in call_asprintf+0x
	// CHECK-NEXT: {^}Write of size 8 at addr {pp} by task {comm}/{pid}{$}
	call_asprintf(pp);
	// CHECK: BUG: KASAN: slab-use-after-free in call_vasprintf+0x
	// CHECK-NEXT: {^}Write of size 8 at addr {pp} by task {comm}/{pid}{$}
	call_vasprintf(pp, "%d", 2);
	KT_MARK("done");
	// CHECK: {^}done{$}
	return 0;
}
