/*
 * Linux's checked user copies (include/kasan.h) with a bad kernel-side buffer
 * (kasan_multi_shot). As Linux's instrument_copy_to_user/instrument_copy_from_user,
 * copy_to_user checks its source and copy_from_user its destination, the whole range at
 * entry, and the report names the caller (Linux's kasan tests: "kasan test:
 * copy_user_test out-of-bounds in copy_to_user()" is reported as "BUG: KASAN:
 * slab-out-of-bounds in copy_user_test"). strncpy_from_user checks all `count` bytes of
 * its destination at entry and the report names it ("BUG: KASAN: slab-out-of-bounds in
 * strncpy_from_user+0x58/0x1e4" / "Write of size 11", the same tests, Linux 4.14). The
 * copies then stop at the first bad kernel byte and return what they did not copy.
 * The user side is not checked (Linux never checks user memory), and an unmapped user
 * address makes a copy come short instead of crashing, as a fault does in Linux.
 */
// RUN: -fno-builtin -Werror=implicit-function-declaration
// ENV: KASAN_OPTIONS=kasan_multi_shot
#include <stdlib.h>
#include <string.h>

#include <kasan.h>

#include "e2e.h"

#define CALL(ret, name, args, expr) \
	KT_NOINLINE ret call_##name args { ret r = expr; kt_barrier(); return r; }

CALL(unsigned long, copy_to_user, (void *to, const void *from, unsigned long n), copy_to_user(to, from, n))
CALL(unsigned long, copy_from_user, (void *to, const void *from, unsigned long n), copy_from_user(to, from, n))
CALL(long, strncpy_from_user, (char *to, const char *from, long n), strncpy_from_user(to, from, n))

int main(void)
{
	char *k16 = kmalloc(opaque_size(16), GFP_KERNEL);
	char *k5 = kmalloc(opaque_size(5), GFP_KERNEL);
	char *user = malloc(opaque_size(64));

	memset(k16, 'k', 16);
	memset(user, 'u', 64);
	strcpy(user + 32, "hello world");
	KT_ADDR("k16", k16);
	KT_ADDR("k5", k5);
	// CHECK: BUG: KASAN: slab-out-of-bounds in call_copy_to_user+0x
	// CHECK-NEXT: {^}Read of size 20 at addr {k16} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} call_copy_to_user+0x
	// CHECK-NEXT: {^} main+0x
	// CHECK: The buggy address belongs to the object at {k16}
	// CHECK-NEXT:  which belongs to the cache kmalloc-16 of size 16
	// CHECK-NEXT: The buggy address is located 0 bytes inside of
	// CHECK-NEXT:  allocated 16-byte region [{k16}, {k16+16})
	// CHECK: {^}copy_to_user: 4 not copied{$}
	if (call_copy_to_user(user, k16, 20) == 4 && user[15] == 'k' && user[16] == 'u')
		KT_MARK("copy_to_user: 4 not copied");
	// CHECK: BUG: KASAN: slab-out-of-bounds in call_copy_from_user+0x
	// CHECK-NEXT: {^}Write of size 20 at addr {k16} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} call_copy_from_user+0x
	// CHECK: {^}copy_from_user: 4 not copied{$}
	if (call_copy_from_user(k16, user + 32, 20) == 4 && memcmp(k16, "hello world", 12) == 0)
		KT_MARK("copy_from_user: 4 not copied");
	// CHECK: BUG: KASAN: slab-out-of-bounds in strncpy_from_user+0x
	// CHECK-NEXT: {^}Write of size 32 at addr {k5} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} strncpy_from_user+0x
	// CHECK-NEXT: {^} call_strncpy_from_user+0x
	// CHECK: The buggy address belongs to the object at {k5}
	// CHECK-NEXT:  which belongs to the cache kmalloc-8 of size 8
	// CHECK-NEXT: The buggy address is located 0 bytes inside of
	// CHECK-NEXT:  allocated 5-byte region [{k5}, {k5+5})
	// CHECK: {^}strncpy_from_user: -EFAULT{$}
	if (call_strncpy_from_user(k5, user + 32, 32) == -14)
		KT_MARK("strncpy_from_user: -EFAULT");

	/* Unmapped user memory: short copies, no report, no crash. */
	// CHECK: {^}unmapped user memory: short copies{$}
	if (call_copy_to_user(opaque_ptr(NULL), k16, 16) == 16 &&
	    call_copy_from_user(k16, opaque_ptr((void *)16), 16) == 16 && k16[0] == 0 && k16[15] == 0 &&
	    call_strncpy_from_user(k16, opaque_ptr(NULL), 16) == -14)
		KT_MARK("unmapped user memory: short copies");
	// CHECK: {^}good copies{$}
	if (call_copy_to_user(user, k16, 16) == 0 && call_copy_from_user(k16, user + 32, 16) == 0 &&
	    call_strncpy_from_user(k16, user + 32, 16) == 11 && strcmp(k16, "hello world") == 0 &&
	    call_strncpy_from_user(k16, user + 16, 16) == 16)
		KT_MARK("good copies");
	kfree(k16);
	kfree(k5);
	free(user);
	return 0;
}
