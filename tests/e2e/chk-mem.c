/*
 * The mem* intrinsics keep Linux's behaviour (mm/kasan/shadow.c: memcpy, memmove and
 * memset return NULL without touching memory when kasan_check_range reports): after a
 * report the operation is skipped and NULL returned (kasan_multi_shot). Each checks its
 * whole range at entry and names its caller, with the range's start and size (syzbot:
 * "BUG: KASAN: slab-out-of-bounds in memcpy include/linux/fortify-string.h:225
 * [inline]" / "BUG: KASAN: slab-out-of-bounds in copy_data+0xf3/0x2e0" / "Read of size
 * 64", Linux 5.15.0-rc6-next-20211025). A good call returns its destination.
 */
// RUN: -fno-builtin -Werror=implicit-function-declaration
// ENV: KASAN_OPTIONS=kasan_multi_shot
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

#define CALL(ret, name, args, expr) \
	KT_NOINLINE ret call_##name args { ret r = expr; kt_barrier(); return r; }

CALL(void *, memcpy, (char *d, const char *s, size_t n), memcpy(d, s, n))
CALL(void *, memmove, (char *d, const char *s, size_t n), memmove(d, s, n))
CALL(void *, memset, (char *d, size_t n), memset(d, 'z', n))

int main(void)
{
	char *d = malloc(opaque_size(10));
	char *s = malloc(opaque_size(16));

	memset(d, 'd', 10);
	memset(s, 's', 16);
	KT_ADDR("d", d);
	// CHECK: BUG: KASAN: slab-out-of-bounds in call_memcpy+0x
	// CHECK-NEXT: {^}Write of size 11 at addr {d} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} call_memcpy+0x
	// CHECK-NEXT: {^} main+0x
	// CHECK: {^}memcpy returned NULL, nothing copied{$}
	if (call_memcpy(d, s, opaque_size(11)) == NULL && d[0] == 'd')
		KT_MARK("memcpy returned NULL, nothing copied");
	// CHECK: BUG: KASAN: slab-out-of-bounds in call_memmove+0x
	// CHECK-NEXT: {^}Write of size 11 at addr {d} by task {comm}/{pid}{$}
	// CHECK: {^}memmove returned NULL, nothing moved{$}
	if (call_memmove(d, s, opaque_size(11)) == NULL && d[0] == 'd')
		KT_MARK("memmove returned NULL, nothing moved");
	// CHECK: BUG: KASAN: slab-out-of-bounds in call_memset+0x
	// CHECK-NEXT: {^}Write of size 11 at addr {d} by task {comm}/{pid}{$}
	// CHECK: {^}memset returned NULL, nothing written{$}
	if (call_memset(d, opaque_size(11)) == NULL && d[0] == 'd')
		KT_MARK("memset returned NULL, nothing written");
	// CHECK: {^}good calls return their destination{$}
	if (call_memcpy(d, s, 10) == d && call_memmove(d + 1, d, 9) == d + 1 && call_memset(d, 10) == d &&
	    d[9] == 'z')
		KT_MARK("good calls return their destination");
	free(d);
	free(s);
	return 0;
}
