/*
 * floor.c - the "floor" runtime of the whole-program benchmark (bench/programs).
 *
 * A checks-only runtime: it answers every __asan_* entry point that gcc's
 * -fsanitize=kernel-address instrumentation (the flags of `kasan cc`) emits, from a
 * shadow that is all zero (mapped at 0x7fff8000 with MAP_NORESERVE, as kasan's), and
 * never reports anything. malloc, free and the string functions stay glibc's. A
 * program built with the same instrumentation and linked with this instead of
 * libkasan.a pays for the compiler's checks (and its stack redzones, and the shadow's
 * page faults) but for nothing a runtime does: the ratio kasan/floor is what our
 * runtime adds on top of the instrumentation.
 *
 * Linked like kasan cc links libkasan: --whole-archive, before the program's objects,
 * so its .preinit_array entry maps the shadow before any instrumented code runs.
 * This file must not itself be instrumented.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define SHADOW_OFFSET 0x7fff8000UL
#define SHADOW_SCALE 3
/* the shadow of all of user space, [0, 2^47): 2^44 bytes */
#define SHADOW_SIZE (1UL << 44)

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

static volatile unsigned long floor_reports; /* counted, never printed */

static inline int8_t *shadow_of(uintptr_t a)
{
	return (int8_t *)((a >> SHADOW_SCALE) + SHADOW_OFFSET);
}

static void floor_init(void)
{
	static int done;
	if (done)
		return;
	done = 1;
	void *p = mmap((void *)SHADOW_OFFSET, SHADOW_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
	if (p != (void *)SHADOW_OFFSET) {
		static const char msg[] = "floor: cannot map the shadow at 0x7fff8000\n";
		(void)!write(2, msg, sizeof msg - 1);
		_exit(111);
	}
}

__attribute__((section(".preinit_array"), used)) static void (*floor_preinit)(void) = floor_init;

/* one access of `size` (1, 2, 4, 8, 16) bytes: ASan's rule */
static inline int bad1(uintptr_t a, size_t size)
{
	int8_t s = *shadow_of(a);
	return s != 0 && (int8_t)((a & 7) + size - 1) >= s;
}

static int bad_range(uintptr_t a, size_t n)
{
	if (n == 0)
		return 0;
	uintptr_t end = a + n - 1;
	for (uintptr_t g = a & ~7UL; g <= end; g += 8) {
		int8_t s = *shadow_of(g);
		if (s == 0)
			continue;
		uintptr_t last = end < g + 7 ? end : g + 7;
		if (s < 0 || (int8_t)(last & 7) >= s)
			return 1;
	}
	return 0;
}

static void nothing(void) { floor_reports++; }

#define ACCESS(kind, size)                                                          \
	void __asan_##kind##size##_noabort(uintptr_t a)                                 \
	{                                                                               \
		if (size == 16 ? bad_range(a, 16) : bad1(a, size))                      \
			nothing();                                                      \
	}                                                                               \
	void __asan_##kind##size(uintptr_t a) __attribute__((alias("__asan_" #kind #size "_noabort"))); \
	void __asan_report_##kind##size##_noabort(uintptr_t a) { (void)a; nothing(); }

ACCESS(load, 1)
ACCESS(load, 2)
ACCESS(load, 4)
ACCESS(load, 8)
ACCESS(load, 16)
ACCESS(store, 1)
ACCESS(store, 2)
ACCESS(store, 4)
ACCESS(store, 8)
ACCESS(store, 16)

void __asan_loadN_noabort(uintptr_t a, size_t n)
{
	if (bad_range(a, n))
		nothing();
}
void __asan_storeN_noabort(uintptr_t a, size_t n)
{
	if (bad_range(a, n))
		nothing();
}
void __asan_loadN(uintptr_t a, size_t n) __attribute__((alias("__asan_loadN_noabort")));
void __asan_storeN(uintptr_t a, size_t n) __attribute__((alias("__asan_storeN_noabort")));
void __asan_report_load_n_noabort(uintptr_t a, size_t n) { (void)a; (void)n; nothing(); }
void __asan_report_store_n_noabort(uintptr_t a, size_t n) { (void)a; (void)n; nothing(); }

/* the stack frame's redzones, written by instrumented prologues and epilogues */
#define SET_SHADOW(v)                                                               \
	void __asan_set_shadow_##v(uintptr_t addr, size_t size) { memset((void *)addr, 0x##v, size); }
SET_SHADOW(00)
SET_SHADOW(f1)
SET_SHADOW(f2)
SET_SHADOW(f3)
SET_SHADOW(f5)
SET_SHADOW(f8)

/* globals, allocas, no-return calls, dynamic init: nothing to do with a zero shadow */
void __asan_register_globals(void *g, size_t n) { (void)g; (void)n; }
void __asan_unregister_globals(void *g, size_t n) { (void)g; (void)n; }
void __asan_alloca_poison(uintptr_t a, size_t n) { (void)a; (void)n; }
void __asan_allocas_unpoison(uintptr_t top, uintptr_t bottom) { (void)top; (void)bottom; }
void __asan_handle_no_return(void) {}
void __asan_before_dynamic_init(const char *m) { (void)m; }
void __asan_after_dynamic_init(void) {}
void __asan_init(void) { floor_init(); }
void __asan_version_mismatch_check_v8(void) {}
void __asan_poison_memory_region(const volatile void *a, size_t n) { (void)a; (void)n; }
void __asan_unpoison_memory_region(const volatile void *a, size_t n) { (void)a; (void)n; }

/* the checked mem* intrinsics the instrumentation may call */
void *__asan_memcpy(void *d, const void *s, size_t n)
{
	if (bad_range((uintptr_t)d, n) || bad_range((uintptr_t)s, n))
		nothing();
	return memcpy(d, s, n);
}
void *__asan_memmove(void *d, const void *s, size_t n)
{
	if (bad_range((uintptr_t)d, n) || bad_range((uintptr_t)s, n))
		nothing();
	return memmove(d, s, n);
}
void *__asan_memset(void *d, int c, size_t n)
{
	if (bad_range((uintptr_t)d, n))
		nothing();
	return memset(d, c, n);
}
