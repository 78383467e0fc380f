/*
 * kunit.h (kernel side) - the KUnit-like harness of the in-kernel KASAN suite. The
 * runner is the kernel's Rust part (tests.rs): it calls each case under a guard, so
 * that a case whose access faults (the general protection fault of an inline check
 * of an address without shadow) is resumed there, and it prints `ok`/`not ok`.
 *
 * EXPECT_KASAN_FAIL(expr, "bug-type") is the hosted harness's: no report pending
 * before, expr between compiler barriers, at least one report during it, and the
 * newest report's bug type equal to the one given. An expression that faults ends
 * its case; the runner then checks the pending expectation itself.
 */
#ifndef KASAN_KERNEL_KUNIT_H
#define KASAN_KERNEL_KUNIT_H

#include "kasan.h"

struct kunit;
/* Provided by the runner. */
void kt_expect_before(struct kunit *test, const char *expr, const char *type, int line);
void kt_expect_after(struct kunit *test, int line);
void kt_fail(struct kunit *test, int line, const char *what);
void kt_skip(struct kunit *test, const char *why);

#define IS_GENERIC 1
#define GS(g, s) (g)
#define OOB_TAG_OFF 0
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define round_up(x, y) ((((x) - 1) | ((__typeof__(x))((y) - 1))) + 1)
#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))
#define barrier() __asm__ __volatile__("" ::: "memory")
#define OPTIMIZER_HIDE_VAR(var) __asm__("" : "=r"(var) : "0"(var))

#define EXPECT_KASAN_FAIL(expr, type) \
	do { \
		kt_expect_before(test, #expr, (type), __LINE__); \
		barrier(); \
		expr; \
		barrier(); \
		kt_expect_after(test, __LINE__); \
	} while (0)

#define KUNIT_ASSERT_NOT_NULL(test, p) \
	do { \
		if ((p) == NULL) { \
			kt_fail((test), __LINE__, #p " is NULL"); \
			return; \
		} \
	} while (0)

struct kunit_case {
	const char *name;
	void (*run)(struct kunit *test);
};
#define KUNIT_CASE(fn) { #fn, fn }

#endif
