/*
 * include/kasan_atomic.h: an atomic read-modify-write on a freed object is one
 * write of the counter's size, reported at the caller as Linux's instrumented
 * atomics report it (KUnit kasan_atomics: atomic_inc on freed memory), and an
 * atomic read one read.
 */
// ENV: KASAN_OPTIONS=kasan_multi_shot
#include <kasan.h>
#include <kasan_atomic.h>

#include "e2e.h"

KT_NOINLINE void bump(atomic_t *a)
{
	atomic_inc(a);
	kt_barrier();
}

KT_NOINLINE int peek(atomic_long_t *a)
{
	return (int)atomic_long_read(a);
}

int main(void)
{
	atomic_t *a = kzalloc(sizeof(*a), GFP_KERNEL);
	atomic_long_t *l = kzalloc(sizeof(*l), GFP_KERNEL);

	KT_ADDR("a", a);
	KT_ADDR("l", l);
	kfree(a);
	kfree(l);
	// CHECK: BUG: KASAN: slab-use-after-free in bump+0x
	// CHECK-NEXT: {^}Write of size 4 at addr {a} by task {comm}/{pid}{$}
	bump(opaque_ptr(a));
	// CHECK: BUG: KASAN: slab-use-after-free in peek+0x
	// CHECK-NEXT: {^}Read of size 8 at addr {l} by task {comm}/{pid}{$}
	(void)peek(opaque_ptr(l));
	kt_barrier();
	return 0;
}
