/*
 * kunit.h - a small KUnit-like harness for the ported KASAN suite (kasan_test.c).
 *
 * One case runs per process: `./kasan_test <case>` runs it and prints one result line
 * on standard output, `./kasan_test --list` prints the case names in order. Reports go
 * to standard error as usual.
 *
 *   ok <case>                     exit 0
 *   not ok <case>: <why>          exit 1
 *   skip <case>: <reason>         exit 77 (the table marks the case as not run in
 *                                 this mode: Linux skips it for the same reason)
 *   skip <case>: <reason>         exit 78 (skipped for another reason: a tool missing)
 *
 * Before the result line a case prints `bug-types: t1 t2 ...`: the bug type of every
 * report that an expectation saw, in order, so a runner can show what was reported.
 *
 * A case process needs `kasan_multi_shot` and sometimes more run-time options: main()
 * re-executes the program once with them added to KASAN_OPTIONS (after the inherited
 * value), so a case runs the same by hand as under `kasan selftest`.
 *
 * EXPECT_KASAN_FAIL(expr, "bug-type") is KUnit's KUNIT_EXPECT_KASAN_FAIL plus a check
 * of the bug type: no report may be pending before, expr runs between compiler
 * barriers, at least one report must have happened during it, and the newest one must
 * have the given type (kasan_last_bug_type()). At the end of the case no report may
 * have happened outside an expectation.
 */
#ifndef KASAN_KUNIT_H
#define KASAN_KUNIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kasan.h>

#ifdef __KASAN_SW_TAGS__
#define KT_GENERIC 0
#define KT_MODE_NAME "sw-tags"
#else
#define KT_GENERIC 1
#define KT_MODE_NAME "generic"
#endif

/* Linux's IS_ENABLED(CONFIG_KASAN_GENERIC) / (CONFIG_KASAN_SW_TAGS), as values. */
#define IS_GENERIC KT_GENERIC
#define IS_SW_TAGS (!KT_GENERIC)

/* The bug type a mode expects: GS("generic type", "sw-tags type"). */
#define GS(g, s) (KT_GENERIC ? (g) : (s))

typedef uint8_t u8;
typedef uint64_t u64;

/* Kernel helpers kasan.h may not have (each only if it does not). */
#ifndef KASAN_GRANULE_SIZE
#define KASAN_GRANULE_SIZE (KT_GENERIC ? 8 : 16)
#endif
#ifndef KMALLOC_MAX_CACHE_SIZE
#define KMALLOC_MAX_CACHE_SIZE 8192
#endif
#ifndef PAGE_SHIFT
#define PAGE_SHIFT 12
#endif
#ifndef PAGE_SIZE
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#endif
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif
#ifndef BITS_PER_BYTE
#define BITS_PER_BYTE 8
#endif
#ifndef BITS_PER_LONG
#define BITS_PER_LONG (8 * (int)sizeof(long))
#endif
#ifndef round_up
#define round_up(x, y) ((((x) - 1) | ((__typeof__(x))((y) - 1))) + 1)
#endif
#ifndef round_down
#define round_down(x, y) ((x) & ~((__typeof__(x))((y) - 1)))
#endif
#ifndef container_of
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
#endif
#ifndef barrier
#define barrier() __asm__ __volatile__("" ::: "memory")
#endif
/* The compiler forgets what it knows about var (its value, its bounds). */
#ifndef OPTIMIZER_HIDE_VAR
#define OPTIMIZER_HIDE_VAR(var) __asm__("" : "=r"(var) : "0"(var))
#endif
#define get_tag(p) kasan_get_tag(p)
#define set_tag(p, t) kasan_set_tag((p), (t))

/* The offset to the first granule past an object that tag modes can tell: 0 in generic. */
#define OOB_TAG_OFF (KT_GENERIC ? 0 : KASAN_GRANULE_SIZE)

struct kunit {
	const char *name;
	int failures;             /* expectations failed */
	char first_failure[512];  /* what the first one said */
	int reports_seen;         /* reports accounted for by expectations */
	char bug_types[1024];     /* the bug types expectations saw, space-separated */
};

/* Exit statuses of a case process. */
#define KT_EXIT_OK 0
#define KT_EXIT_FAIL 1
#define KT_EXIT_SKIP_MODE 77
#define KT_EXIT_SKIP_OTHER 78

/* Expectations (the case goes on), assertions (the case ends, failed) and skips; the
 * functions are defined at the end of this header (one translation unit includes it). */
static void kt_fail(struct kunit *test, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), unused));
static void kt_assert_fail(struct kunit *test, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn, unused));
/* Skip the case: `mode` is true when the table marks it as not run in this mode. */
static void kunit_skip_why(struct kunit *test, bool mode, const char *reason)
	__attribute__((noreturn, unused));
static void kt_expect_before(struct kunit *test, const char *expr, int line);
static void kt_expect_after(struct kunit *test, const char *expr, const char *type, int line);

#define kunit_skip(test, reason) kunit_skip_why((test), false, (reason))

/* The table's mode columns: the case is skipped (as Linux does) in the other mode. */
#define KASAN_TEST_NEEDS_GENERIC(test, why) \
	do { \
		if (!KT_GENERIC) \
			kunit_skip_why((test), true, "generic mode only: " why); \
	} while (0)
#define KASAN_TEST_NEEDS_TAGS(test, why) \
	do { \
		if (KT_GENERIC) \
			kunit_skip_why((test), true, "tag-based modes only: " why); \
	} while (0)

#define EXPECT_KASAN_FAIL(expr, type) \
	do { \
		kt_expect_before(kt_test, #expr, __LINE__); \
		barrier(); \
		expr; \
		barrier(); \
		kt_expect_after(kt_test, #expr, (type), __LINE__); \
	} while (0)

#define KUNIT_EXPECT_TRUE(test, cond) \
	do { \
		if (!(cond)) \
			kt_fail((test), __LINE__, "expected %s", #cond); \
	} while (0)
#define KUNIT_ASSERT_TRUE(test, cond) \
	do { \
		if (!(cond)) \
			kt_assert_fail((test), __LINE__, "assertion %s failed", #cond); \
	} while (0)
#define KUNIT_EXPECT_OP(test, a, op, b) \
	do { \
		long long kt_a_ = (long long)(a), kt_b_ = (long long)(b); \
		if (!(kt_a_ op kt_b_)) \
			kt_fail((test), __LINE__, "expected %s %s %s (%lld vs %lld)", #a, #op, #b, \
				kt_a_, kt_b_); \
	} while (0)
#define KUNIT_ASSERT_OP(test, a, op, b) \
	do { \
		long long kt_a_ = (long long)(a), kt_b_ = (long long)(b); \
		if (!(kt_a_ op kt_b_)) \
			kt_assert_fail((test), __LINE__, "assertion %s %s %s failed (%lld vs %lld)", \
				       #a, #op, #b, kt_a_, kt_b_); \
	} while (0)
#define KUNIT_EXPECT_EQ(t, a, b) KUNIT_EXPECT_OP(t, a, ==, b)
#define KUNIT_EXPECT_NE(t, a, b) KUNIT_EXPECT_OP(t, a, !=, b)
#define KUNIT_EXPECT_GE(t, a, b) KUNIT_EXPECT_OP(t, a, >=, b)
#define KUNIT_EXPECT_GT(t, a, b) KUNIT_EXPECT_OP(t, a, >, b)
#define KUNIT_EXPECT_LE(t, a, b) KUNIT_EXPECT_OP(t, a, <=, b)
#define KUNIT_EXPECT_LT(t, a, b) KUNIT_EXPECT_OP(t, a, <, b)
#define KUNIT_ASSERT_EQ(t, a, b) KUNIT_ASSERT_OP(t, a, ==, b)
#define KUNIT_ASSERT_GE(t, a, b) KUNIT_ASSERT_OP(t, a, >=, b)
#define KUNIT_ASSERT_LT(t, a, b) KUNIT_ASSERT_OP(t, a, <, b)
#define KUNIT_EXPECT_PTR_EQ(t, a, b) \
	do { \
		const void *kt_a_ = (a), *kt_b_ = (b); \
		if (kt_a_ != kt_b_) \
			kt_fail((t), __LINE__, "expected %s == %s (%p vs %p)", #a, #b, kt_a_, kt_b_); \
	} while (0)
#define KUNIT_EXPECT_PTR_NE(t, a, b) \
	do { \
		const void *kt_a_ = (a), *kt_b_ = (b); \
		if (kt_a_ == kt_b_) \
			kt_fail((t), __LINE__, "expected %s != %s (both %p)", #a, #b, kt_a_); \
	} while (0)
#define KUNIT_ASSERT_NOT_NULL(t, p) \
	do { \
		if ((p) == NULL) \
			kt_assert_fail((t), __LINE__, "%s is NULL", #p); \
	} while (0)
#define KUNIT_ASSERT_NULL(t, p) \
	do { \
		if ((p) != NULL) \
			kt_assert_fail((t), __LINE__, "%s is not NULL", #p); \
	} while (0)

/* A case: its name, its function, and the run-time options it needs beyond
 * kasan_multi_shot (NULL for none). */
struct kunit_case {
	const char *name;
	void (*run)(struct kunit *test);
	const char *options;
};

#define KUNIT_CASE(fn) { #fn, fn, NULL }
#define KUNIT_CASE_OPTS(fn, opts) { #fn, fn, (opts) }

/* The test the running case is (EXPECT_KASAN_FAIL uses it). */
static struct kunit *kt_test;

/* ---- the implementation ---- */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void kt_vfail(struct kunit *test, int line, const char *fmt, va_list ap)
{
	char msg[400];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* KUnit's form, on stderr between the reports, so a log reads in order. */
	fprintf(stderr, "    # %s: line %d: %s\n", test->name, line, msg);
	if (test->failures++ == 0)
		snprintf(test->first_failure, sizeof(test->first_failure), "line %d: %s", line, msg);
}

static void kt_fail(struct kunit *test, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kt_vfail(test, line, fmt, ap);
	va_end(ap);
}

static void kt_print_bug_types(const struct kunit *test)
{
	printf("bug-types:%s%s\n", test->bug_types[0] ? " " : "", test->bug_types);
}

static __attribute__((noreturn)) void kt_finish(struct kunit *test)
{
	int n = kasan_reports_count();

	if (n != test->reports_seen)
		kt_fail(test, 0, "%d report(s) outside any expectation",
			n - test->reports_seen);
	kt_print_bug_types(test);
	if (test->failures == 0) {
		printf("ok %s\n", test->name);
		fflush(stdout);
		exit(KT_EXIT_OK);
	}
	if (test->failures > 1)
		printf("not ok %s: %s (and %d more failed expectation(s))\n", test->name,
		       test->first_failure, test->failures - 1);
	else
		printf("not ok %s: %s\n", test->name, test->first_failure);
	fflush(stdout);
	exit(KT_EXIT_FAIL);
}

static void kt_assert_fail(struct kunit *test, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kt_vfail(test, line, fmt, ap);
	va_end(ap);
	kt_finish(test);
}

static void kunit_skip_why(struct kunit *test, bool mode, const char *reason)
{
	if (kasan_reports_count() != test->reports_seen) {
		kt_fail(test, 0, "report(s) before the skip");
		kt_finish(test);
	}
	printf("skip %s: %s\n", test->name, reason);
	fflush(stdout);
	exit(mode ? KT_EXIT_SKIP_MODE : KT_EXIT_SKIP_OTHER);
}

static void kt_expect_before(struct kunit *test, const char *expr, int line)
{
	int n = kasan_reports_count();

	if (n != test->reports_seen) {
		kt_fail(test, line, "%d report(s) before `%s`, outside any expectation",
			n - test->reports_seen, expr);
		test->reports_seen = n;
	}
	fprintf(stderr, "    # %s: line %d: expecting a report from `%s`\n", test->name, line,
		expr);
}

static void kt_expect_after(struct kunit *test, const char *expr, const char *type, int line)
{
	int n = kasan_reports_count();
	const char *seen;
	size_t len;

	if (n == test->reports_seen) {
		kt_fail(test, line, "KASAN failure expected in `%s` (%s), but none occurred", expr,
			type);
		return;
	}
	test->reports_seen = n;
	seen = kasan_last_bug_type();
	len = strlen(test->bug_types);
	snprintf(test->bug_types + len, sizeof(test->bug_types) - len, "%s%s", len ? " " : "",
		 seen ? seen : "(none)");
	if (seen == NULL || strcmp(seen, type) != 0)
		kt_fail(test, line, "`%s` reported %s, expected %s", expr, seen ? seen : "no type",
			type);
}

/* Re-execute once with kasan_multi_shot and the case's options added to KASAN_OPTIONS
 * (the runtime reads its options when the process starts). */
static void kt_reexec(char **argv, const struct kunit_case *c)
{
	const char *old = getenv("KASAN_OPTIONS");
	size_t len;
	char *opts;

	if (getenv("KASAN_TEST_REEXEC") != NULL)
		return;
	len = (old ? strlen(old) : 0) + strlen(c->options ? c->options : "") + 32;
	opts = malloc(len);
	if (opts == NULL)
		return;
	snprintf(opts, len, "%s%skasan_multi_shot%s%s", old ? old : "", old && *old ? " " : "",
		 c->options ? " " : "", c->options ? c->options : "");
	setenv("KASAN_OPTIONS", opts, 1);
	setenv("KASAN_TEST_REEXEC", "1", 1);
	free(opts);
	execv("/proc/self/exe", argv);
	fprintf(stderr, "kasan_test: cannot re-execute /proc/self/exe; running with the "
			"inherited KASAN_OPTIONS\n");
}

static int kunit_main(int argc, char **argv, const struct kunit_case *cases, size_t n)
{
	static struct kunit test;
	size_t i;

	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		for (i = 0; i < n; i++)
			printf("%s\n", cases[i].name);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "--options") == 0) {
		for (i = 0; i < n; i++)
			printf("%s\tkasan_multi_shot%s%s\n", cases[i].name,
			       cases[i].options ? " " : "", cases[i].options ? cases[i].options : "");
		return 0;
	}
	for (i = 0; argc == 2 && i < n; i++)
		if (strcmp(argv[1], cases[i].name) == 0)
			break;
	if (argc != 2 || i == n) {
		fprintf(stderr, "usage: %s --list | --options | <case>  (%s mode build)\n", argv[0],
			KT_MODE_NAME);
		return 2;
	}
	kt_reexec(argv, &cases[i]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	test.name = cases[i].name;
	kt_test = &test;
	/* As Linux's suite_init; the option does the same for the whole process. */
	(void)kasan_save_enable_multi_shot();
	test.reports_seen = kasan_reports_count();
	cases[i].run(&test);
	kt_finish(&test);
}

#endif /* KASAN_KUNIT_H */
