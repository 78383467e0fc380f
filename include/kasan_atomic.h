/*
 * kasan_atomic.h - Linux's once-accessors, atomics and bitops for code built with
 * `kasan cc`, with Linux's names and semantics (include/linux/atomic.h,
 * include/asm-generic/bitops/).
 *
 * Every function here is one access the compiler instruments: gcc's and clang's
 * -fsanitize=kernel-address and clang's -fsanitize=kernel-hwaddress check the
 * __atomic builtins as they check plain loads and stores, so an atomic on freed or
 * out-of-bounds memory is reported at the caller, once, with the access's size and
 * direction (read for atomic_read/test_bit, write for every read-modify-write), as
 * Linux's instrumented atomics report it.
 */
#ifndef KASAN_ATOMIC_H
#define KASAN_ATOMIC_H

#ifndef __cplusplus
#include <stdbool.h>
#endif

#define READ_ONCE(x)		(*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, val)	do { *(volatile __typeof__(x) *)&(x) = (val); } while (0)
#define smp_load_acquire(p)	__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define smp_store_release(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELEASE)

typedef struct { int counter; } atomic_t;
typedef struct { long counter; } atomic_long_t;
#define ATOMIC_INIT(i)		{ (i) }
#define ATOMIC_LONG_INIT(i)	{ (i) }

/*
 * One set of operations per counter type. Ordering as Linux's: value-returning
 * read-modify-writes are fully ordered, the void ones relaxed.
 */
#define KASAN_ATOMIC_OPS(pfx, atype, T)						\
static inline T pfx##_read(const atype *v)						\
{ return __atomic_load_n(&v->counter, __ATOMIC_RELAXED); }				\
static inline void pfx##_set(atype *v, T i)						\
{ __atomic_store_n(&v->counter, i, __ATOMIC_RELAXED); }				\
static inline void pfx##_add(T i, atype *v)						\
{ __atomic_fetch_add(&v->counter, i, __ATOMIC_RELAXED); }				\
static inline void pfx##_sub(T i, atype *v)						\
{ __atomic_fetch_sub(&v->counter, i, __ATOMIC_RELAXED); }				\
static inline void pfx##_inc(atype *v) { pfx##_add(1, v); }				\
static inline void pfx##_dec(atype *v) { pfx##_sub(1, v); }				\
static inline void pfx##_and(T i, atype *v)						\
{ __atomic_fetch_and(&v->counter, i, __ATOMIC_RELAXED); }				\
static inline void pfx##_andnot(T i, atype *v) { pfx##_and(~i, v); }			\
static inline void pfx##_or(T i, atype *v)						\
{ __atomic_fetch_or(&v->counter, i, __ATOMIC_RELAXED); }				\
static inline void pfx##_xor(T i, atype *v)						\
{ __atomic_fetch_xor(&v->counter, i, __ATOMIC_RELAXED); }				\
static inline T pfx##_add_return(T i, atype *v)					\
{ return __atomic_add_fetch(&v->counter, i, __ATOMIC_SEQ_CST); }			\
static inline T pfx##_sub_return(T i, atype *v)					\
{ return __atomic_sub_fetch(&v->counter, i, __ATOMIC_SEQ_CST); }			\
static inline T pfx##_inc_return(atype *v) { return pfx##_add_return(1, v); }		\
static inline T pfx##_dec_return(atype *v) { return pfx##_sub_return(1, v); }		\
static inline T pfx##_fetch_add(T i, atype *v)						\
{ return __atomic_fetch_add(&v->counter, i, __ATOMIC_SEQ_CST); }			\
static inline T pfx##_fetch_sub(T i, atype *v)						\
{ return __atomic_fetch_sub(&v->counter, i, __ATOMIC_SEQ_CST); }			\
static inline T pfx##_xchg(atype *v, T i)						\
{ return __atomic_exchange_n(&v->counter, i, __ATOMIC_SEQ_CST); }			\
/* The value before; the swap happened if it equals old. */				\
static inline T pfx##_cmpxchg(atype *v, T old, T new_)					\
{											\
	__atomic_compare_exchange_n(&v->counter, &old, new_, false,			\
				    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);		\
	return old;									\
}											\
/* On failure *old becomes the current value (a read of old, a write on failure). */	\
static inline bool pfx##_try_cmpxchg(atype *v, T *old, T new_)			\
{											\
	T expected = __atomic_load_n(old, __ATOMIC_RELAXED);				\
	bool ok = __atomic_compare_exchange_n(&v->counter, &expected, new_, false,	\
					      __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);	\
	if (!ok)									\
		__atomic_store_n(old, expected, __ATOMIC_RELAXED);			\
	return ok;									\
}											\
static inline bool pfx##_sub_and_test(T i, atype *v)					\
{ return pfx##_sub_return(i, v) == 0; }							\
static inline bool pfx##_dec_and_test(atype *v) { return pfx##_dec_return(v) == 0; }	\
static inline bool pfx##_inc_and_test(atype *v) { return pfx##_inc_return(v) == 0; }	\
static inline bool pfx##_add_negative(T i, atype *v)					\
{ return pfx##_add_return(i, v) < 0; }							\
/* Adds a unless the counter is u; whether it added. */				\
static inline bool pfx##_add_unless(atype *v, T a, T u)				\
{											\
	T c = pfx##_read(v);								\
	do {										\
		if (c == u)								\
			return false;							\
	} while (!pfx##_try_cmpxchg(v, &c, c + a));					\
	return true;									\
}											\
static inline bool pfx##_inc_not_zero(atype *v) { return pfx##_add_unless(v, 1, 0); }	\
static inline bool pfx##_inc_unless_negative(atype *v)				\
{											\
	T c = pfx##_read(v);								\
	do {										\
		if (c < 0)								\
			return false;							\
	} while (!pfx##_try_cmpxchg(v, &c, c + 1));					\
	return true;									\
}											\
static inline bool pfx##_dec_unless_positive(atype *v)				\
{											\
	T c = pfx##_read(v);								\
	do {										\
		if (c > 0)								\
			return false;							\
	} while (!pfx##_try_cmpxchg(v, &c, c - 1));					\
	return true;									\
}											\
/* Decrements if the result stays non-negative; returns the result either way. */	\
static inline T pfx##_dec_if_positive(atype *v)					\
{											\
	T c = pfx##_read(v);								\
	do {										\
		if (c - 1 < 0)								\
			return c - 1;							\
	} while (!pfx##_try_cmpxchg(v, &c, c - 1));					\
	return c - 1;									\
}

KASAN_ATOMIC_OPS(atomic, atomic_t, int)
KASAN_ATOMIC_OPS(atomic_long, atomic_long_t, long)
#undef KASAN_ATOMIC_OPS

/* Bit operations on arrays of unsigned long: bit nr is in word nr / BITS_PER_LONG. */
#define BITS_PER_BYTE	8
#define BITS_PER_LONG	(8 * (int)sizeof(long))
#define BIT_MASK(nr)	(1UL << ((nr) % BITS_PER_LONG))
#define BIT_WORD(nr)	((nr) / BITS_PER_LONG)

#define KASAN_BITOP_WORD(nr, addr) ((volatile unsigned long *)(addr) + BIT_WORD(nr))

/* Atomic (relaxed; _lock acquire, _unlock release). */
static inline void set_bit(long nr, volatile void *addr)
{ __atomic_fetch_or(KASAN_BITOP_WORD(nr, addr), BIT_MASK(nr), __ATOMIC_RELAXED); }
static inline void clear_bit(long nr, volatile void *addr)
{ __atomic_fetch_and(KASAN_BITOP_WORD(nr, addr), ~BIT_MASK(nr), __ATOMIC_RELAXED); }
static inline void change_bit(long nr, volatile void *addr)
{ __atomic_fetch_xor(KASAN_BITOP_WORD(nr, addr), BIT_MASK(nr), __ATOMIC_RELAXED); }
static inline void clear_bit_unlock(long nr, volatile void *addr)
{ __atomic_fetch_and(KASAN_BITOP_WORD(nr, addr), ~BIT_MASK(nr), __ATOMIC_RELEASE); }
static inline bool test_and_set_bit(long nr, volatile void *addr)
{ return __atomic_fetch_or(KASAN_BITOP_WORD(nr, addr), BIT_MASK(nr), __ATOMIC_SEQ_CST) & BIT_MASK(nr); }
static inline bool test_and_clear_bit(long nr, volatile void *addr)
{ return __atomic_fetch_and(KASAN_BITOP_WORD(nr, addr), ~BIT_MASK(nr), __ATOMIC_SEQ_CST) & BIT_MASK(nr); }
static inline bool test_and_change_bit(long nr, volatile void *addr)
{ return __atomic_fetch_xor(KASAN_BITOP_WORD(nr, addr), BIT_MASK(nr), __ATOMIC_SEQ_CST) & BIT_MASK(nr); }
static inline bool test_and_set_bit_lock(long nr, volatile void *addr)
{ return __atomic_fetch_or(KASAN_BITOP_WORD(nr, addr), BIT_MASK(nr), __ATOMIC_ACQUIRE) & BIT_MASK(nr); }
/* Clears the bits of mask in the byte at addr (release); whether bit 7 is then set. */
static inline bool xor_unlock_is_negative_byte(unsigned long mask, volatile void *addr)
{ return (__atomic_xor_fetch((volatile unsigned char *)addr, (unsigned char)mask, __ATOMIC_RELEASE) & 0x80) != 0; }

/*
 * Non-atomic in Linux's contract; done here as one relaxed atomic read-modify-write,
 * so a bad address is one write access (one report), as Linux's instrumented
 * __set_bit and friends check it once.
 */
static inline void __set_bit(long nr, volatile void *addr)
{ __atomic_fetch_or(KASAN_BITOP_WORD(nr, addr), BIT_MASK(nr), __ATOMIC_RELAXED); }
static inline void __clear_bit(long nr, volatile void *addr)
{ __atomic_fetch_and(KASAN_BITOP_WORD(nr, addr), ~BIT_MASK(nr), __ATOMIC_RELAXED); }
static inline void __change_bit(long nr, volatile void *addr)
{ __atomic_fetch_xor(KASAN_BITOP_WORD(nr, addr), BIT_MASK(nr), __ATOMIC_RELAXED); }
static inline void __clear_bit_unlock(long nr, volatile void *addr)
{ __atomic_fetch_and(KASAN_BITOP_WORD(nr, addr), ~BIT_MASK(nr), __ATOMIC_RELEASE); }
static inline bool __test_and_set_bit(long nr, volatile void *addr)
{ return __atomic_fetch_or(KASAN_BITOP_WORD(nr, addr), BIT_MASK(nr), __ATOMIC_RELAXED) & BIT_MASK(nr); }
static inline bool __test_and_clear_bit(long nr, volatile void *addr)
{ return __atomic_fetch_and(KASAN_BITOP_WORD(nr, addr), ~BIT_MASK(nr), __ATOMIC_RELAXED) & BIT_MASK(nr); }
static inline bool __test_and_change_bit(long nr, volatile void *addr)
{ return __atomic_fetch_xor(KASAN_BITOP_WORD(nr, addr), BIT_MASK(nr), __ATOMIC_RELAXED) & BIT_MASK(nr); }
static inline bool test_bit(long nr, const volatile void *addr)
{ return (*((const volatile unsigned long *)addr + BIT_WORD(nr)) & BIT_MASK(nr)) != 0; }

#endif /* KASAN_ATOMIC_H */
