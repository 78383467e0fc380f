/*
 * The program closes every descriptor above 2 (the log's too), then opens files of
 * its own and puts one of them on every descriptor up to 1100 (where the log's
 * descriptor was): its files get no report text, the log gets the report (the
 * runtime sees that its descriptor is no longer its file and opens the path again).
 * The program checks its files itself and exits 0 only if they are intact.
 */
// ENV: KASAN_OPTIONS=kasan.log_path={tmpdir}/kasan.log
// LOG: kasan.log
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "e2e.h"

KT_NOINLINE void write_byte(char *p, long i)
{
	((volatile char *)p)[i] = 0;
}

static int intact(const char *path, const char *text)
{
	char buf[256] = { 0 };
	int fd = open(path, O_RDONLY);
	long n = read(fd, buf, sizeof buf - 1);

	close(fd);
	return n == (long)strlen(text) && strcmp(buf, text) == 0;
}

int main(void)
{
	char *p = malloc(opaque_size(16));
	int a, b;

	KT_ADDR("p", p);
	for (int fd = 3; fd < 1100; fd++)
		close(fd);
	a = open("mine-a.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	b = open("mine-b.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	for (int fd = b + 1; fd < 1100; fd++)
		dup2(b, fd);
	write(a, "a\n", 2);
	// CHECK: ==================================================================
	// CHECK-NEXT: BUG: KASAN: slab-out-of-bounds in write_byte+0x
	// CHECK-NEXT: {^}Write of size 1 at addr {p+16} by task {comm}/{pid}{$}
	// CHECK: {^}=================================================================={$}
	write_byte(p, (long)opaque_size(16));
	write(b, "b\n", 2);
	for (int fd = 3; fd < 1100; fd++)
		close(fd);
	free(p);
	return intact("mine-a.txt", "a\n") && intact("mine-b.txt", "b\n") ? 0 : 3;
}
