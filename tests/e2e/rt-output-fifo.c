/*
 * kasan.log_path names a FIFO without a reader: start-up does not hang (the open
 * does not wait for a reader); one line says the log cannot be opened, and the
 * report goes to stderr. The program makes the FIFO and runs itself again (the
 * runtime opens the log at start-up).
 */
// ENV: KASAN_OPTIONS=kasan.log_path={tmpdir}/fifo
// TIMEOUT: 20
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "e2e.h"

KT_NOINLINE void write_byte(char *p, long i)
{
	((volatile char *)p)[i] = 0;
}

int main(int argc, char **argv)
{
	char *p;

	if (argc == 1) {
		/* Our own start-up created the log as a file: make it a FIFO. */
		unlink("fifo");
		if (mkfifo("fifo", 0600) != 0)
			return 2;
		execl(argv[0], argv[0], "again", (char *)NULL);
		return 2;
	}
	p = malloc(opaque_size(16));
	KT_ADDR("p", p);
	// CHECK: {^}kasan: cannot open kasan.log_path '{tmpdir}/fifo': errno 6; reports go to stderr{$}
	// CHECK: ==================================================================
	// CHECK-NEXT: BUG: KASAN: slab-out-of-bounds in write_byte+0x
	// CHECK-NEXT: {^}Write of size 1 at addr {p+16} by task {comm}/{pid}{$}
	write_byte(p, (long)opaque_size(16));
	free(p);
	return 0;
}
