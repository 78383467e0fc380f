/*
 * Forked writers sharing one kasan.log_path in JSON mode: four children and the
 * parent each report five bugs with long traces (lines of several KiB, more than
 * the old 2 KiB pieces) at the same time. Every line of the log is one valid JSON
 * object and there are exactly 25 of them; each child counts its own five.
 */
// ENV: KASAN_OPTIONS=kasan_multi_shot kasan.report_format=json kasan.log_path={tmpdir}/shared.log
// LOG: shared.log
// JSON-LINES: all
// REPORTS: 25
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kasan.h>

#include "e2e.h"

KT_NOINLINE void write_byte(char *p, long i)
{
	((volatile char *)p)[i] = 0;
}

KT_NOINLINE char *deep_alloc(int n)
{
	char *p = n ? deep_alloc(n - 1) : malloc(opaque_size(16));

	kt_barrier();
	return p;
}

KT_NOINLINE void deep_bug(char *p, int n)
{
	if (n)
		deep_bug(p, n - 1);
	else
		write_byte(p, (long)opaque_size(16));
	kt_barrier();
}

static void bugs(void)
{
	for (int i = 0; i < 5; i++) {
		char *p = deep_alloc(60);

		deep_bug(p, 60);
		free(p);
	}
}

int main(void)
{
	int ok = 1;

	for (int c = 0; c < 4; c++) {
		if (fork() == 0) {
			bugs();
			_exit(kasan_reports_count() == 5 ? 0 : 1);
		}
	}
	bugs();
	for (int c = 0; c < 4; c++) {
		int status;

		if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			ok = 0;
	}
	// CHECK: "bug_type":"slab-out-of-bounds"
	return ok && kasan_reports_count() == 5 ? 0 : 1;
}
