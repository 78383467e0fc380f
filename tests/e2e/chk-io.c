/*
 * The checked libc I/O functions given a buffer one byte short (a 10-byte object for 11
 * bytes) or a freed string (kasan_multi_shot: one report per call, in order). Linux has
 * no such functions; they check as ASan's interceptors do, in the form Linux uses for a
 * range it hands on (its checked memcpy, copy_to_user): the whole buffer at entry, the
 * report naming the caller, the range's start and size (syzbot: "BUG: KASAN:
 * slab-out-of-bounds in copy_data+0xf3/0x2e0" / "Read of size 64", Linux 5.15, a
 * memcpy inlined into copy_data). After a report the call is not made and fails with
 * EFAULT. The clean twin is chk-clean.c.
 */
// RUN: -fno-builtin -Werror=implicit-function-declaration
// ENV: KASAN_OPTIONS=kasan_multi_shot
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "e2e.h"

#define CALL(ret, name, args, expr) \
	KT_NOINLINE ret call_##name args { ret r = expr; kt_barrier(); return r; }

CALL(ssize_t, read, (int fd, char *b), read(fd, b, opaque_size(11)))
CALL(ssize_t, pread, (int fd, char *b), pread(fd, b, opaque_size(11), 0))
CALL(ssize_t, pread64, (int fd, char *b), pread64(fd, b, opaque_size(11), 0))
CALL(ssize_t, pwrite64, (int fd, const char *b), pwrite64(fd, b, opaque_size(11), 0))
CALL(ssize_t, recv, (int fd, char *b), recv(fd, b, opaque_size(11), MSG_DONTWAIT))
CALL(ssize_t, recvfrom, (int fd, char *b), recvfrom(fd, b, opaque_size(11), MSG_DONTWAIT, NULL, NULL))
CALL(ssize_t, write, (int fd, const char *b), write(fd, b, opaque_size(11)))
CALL(ssize_t, pwrite, (int fd, const char *b), pwrite(fd, b, opaque_size(11), 0))
CALL(ssize_t, send, (int fd, const char *b), send(fd, b, opaque_size(11), 0))
CALL(ssize_t, sendto, (int fd, const char *b), sendto(fd, b, opaque_size(11), 0, NULL, 0))
CALL(char *, fgets, (char *b, FILE *f), fgets(b, (int)opaque_size(11), f))
CALL(size_t, fread, (char *b, FILE *f), fread(b, 1, opaque_size(11), f))
CALL(size_t, fwrite, (const char *b, FILE *f), fwrite(b, 1, opaque_size(11), f))
CALL(int, puts, (const char *s), puts(s))
CALL(int, fputs, (const char *s, FILE *f), fputs(s, f))

int main(void)
{
	char *b = malloc(opaque_size(10));
	char *freed = malloc(opaque_size(16));
	FILE *f = tmpfile();
	int sv[2];

	memset(b, 'b', 10);
	strcpy(freed, "a freed string");
	free(freed);
	fputs("some file contents, more than eleven bytes\n", f);
	rewind(f);
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
	KT_ADDR("b", b);
	KT_ADDR("freed", freed);
	// CHECK: BUG: KASAN: slab-out-of-bounds in call_read+0x
	// CHECK-NEXT: {^}Write of size 11 at addr {b} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} call_read+0x
	// CHECK-NEXT: {^} main+0x
	// CHECK: The buggy address belongs to the object at {b}
	// CHECK-NEXT:  which belongs to the cache kmalloc-16 of size 16
	// CHECK-NEXT: The buggy address is located 0 bytes inside of
	// CHECK-NEXT:  allocated 10-byte region [{b}, {b+10})
	// CHECK: {^}read failed with EFAULT{$}
	if (call_read(fileno(f), b) == -1 && errno == EFAULT)
		KT_MARK("read failed with EFAULT");
	// CHECK: BUG: KASAN: slab-out-of-bounds in call_pread+0x
	// CHECK-NEXT: {^}Write of size 11 at addr {b} by task {comm}/{pid}{$}
	call_pread(fileno(f), b);
	// CHECK: BUG: KASAN: slab-out-of-bounds in call_pread64+0x
	// CHECK-NEXT: {^}Write of size 11 at addr {b} by task {comm}/{pid}{$}
	call_pread64(fileno(f), b);
	// CHECK: BUG: KASAN: slab-out-of-bounds in call_recv+0x
	// CHECK-NEXT: {^}Write of size 11 at addr {b} by task {comm}/{pid}{$}
	call_recv(sv[0], b);
	// CHECK: BUG: KASAN: slab-out-of-bounds in call_recvfrom+0x
	// CHECK-NEXT: {^}Write of size 11 at addr {b} by task {comm}/{pid}{$}
	call_recvfrom(sv[0], b);
	// CHECK: BUG: KASAN: slab-out-of-bounds in call_write+0x
	// CHECK-NEXT: {^}Read of size 11 at addr {b} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} call_write+0x
	// CHECK-NEXT: {^} main+0x
	call_write(sv[1], b);
	// CHECK: BUG: KASAN: slab-out-of-bounds in call_pwrite+0x
	// CHECK-NEXT: {^}Read of size 11 at addr {b} by task {comm}/{pid}{$}
	call_pwrite(fileno(f), b);
	// CHECK: BUG: KASAN: slab-out-of-bounds in call_pwrite64+0x
	// CHECK-NEXT: {^}Read of size 11 at addr {b} by task {comm}/{pid}{$}
	call_pwrite64(fileno(f), b);
	// CHECK: BUG: KASAN: slab-out-of-bounds in call_send+0x
	// CHECK-NEXT: {^}Read of size 11 at addr {b} by task {comm}/{pid}{$}
	call_send(sv[1], b);
	// CHECK: BUG: KASAN: slab-out-of-bounds in call_sendto+0x
	// CHECK-NEXT: {^}Read of size 11 at addr {b} by task {comm}/{pid}{$}
	call_sendto(sv[1], b);
	// CHECK: BUG: KASAN: slab-out-of-bounds in call_fgets+0x
	// CHECK-NEXT: {^}Write of size 11 at addr {b} by task {comm}/{pid}{$}
	// CHECK: {^}fgets returned NULL{$}
	if (call_fgets(b, f) == NULL)
		KT_MARK("fgets returned NULL");
	// CHECK: BUG: KASAN: slab-out-of-bounds in call_fread+0x
	// CHECK-NEXT: {^}Write of size 11 at addr {b} by task {comm}/{pid}{$}
	call_fread(b, f);
	// CHECK: BUG: KASAN: slab-out-of-bounds in call_fwrite+0x
	// CHECK-NEXT: {^}Read of size 11 at addr {b} by task {comm}/{pid}{$}
	call_fwrite(b, f);
	// CHECK: BUG: KASAN: slab-use-after-free in call_puts+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {freed} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} call_puts+0x
	// CHECK: The buggy address is located 0 bytes inside of
	// CHECK-NEXT:  freed 16-byte region [{freed}, {freed+16})
	call_puts(freed);
	// CHECK: BUG: KASAN: slab-use-after-free in call_fputs+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {freed} by task {comm}/{pid}{$}
	call_fputs(freed, stdout);
	KT_MARK("done");
	// CHECK: {^}done{$}
	return 0;
}
