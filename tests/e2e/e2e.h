/*
 * e2e.h - helpers for the end-to-end tests (README.md in this directory explains the
 * directives these programs carry).
 *
 * Variables: KT_ADDR("p", p) prints "KASAN-TEST p=0x..." on stdout and flushes it, so
 * that CHECK lines can say {p}, {p+13}, {row:p}, {caret:p+13}; KT_NUM("n", n) prints a
 * decimal number. Print before the bug: a report may end the program.
 *
 * Markers: KT_MARK("text") writes a line to stderr, in order with the reports, e.g. to
 * show that the program went on after one.
 *
 * Defeating the optimiser: gcc and clang at -O1 delete or fold accesses they can prove
 * out of bounds or dead (a malloc/free pair, a store to freed memory, a constant index
 * past an array). opaque_ptr()/opaque_size() launder a value through an empty asm the
 * compiler cannot see into; KT_NOINLINE keeps a helper a function of its own under its
 * own name (no inlining, and no gcc ".constprop"/".isra" clones); kt_barrier() after a
 * call keeps it from being a tail call, so that the caller stays in the stack trace.
 */
#ifndef E2E_H
#define E2E_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __clang__
#define KT_NOINLINE __attribute__((noinline, used))
#else
#define KT_NOINLINE __attribute__((noinline, noclone, used))
#endif

static inline void kt_addr(const char *name, const volatile void *p)
{
	printf("KASAN-TEST %s=0x%lx\n", name, (unsigned long)(uintptr_t)p);
	fflush(stdout);
}

static inline void kt_num(const char *name, unsigned long v)
{
	printf("KASAN-TEST %s=%lu\n", name, v);
	fflush(stdout);
}

#define KT_ADDR(name, p) kt_addr((name), (p))
#define KT_NUM(name, v) kt_num((name), (unsigned long)(v))
#define KT_MARK(text) (fputs(text "\n", stderr), fflush(stderr))

static inline void kt_barrier(void)
{
	__asm__ volatile("" : : : "memory");
}

static inline void *opaque_ptr(const volatile void *p)
{
	void *q = (void *)(uintptr_t)p;
	__asm__ volatile("" : "+r"(q) : : "memory");
	return q;
}

static inline size_t opaque_size(size_t n)
{
	__asm__ volatile("" : "+r"(n) : : "memory");
	return n;
}

#endif /* E2E_H */
