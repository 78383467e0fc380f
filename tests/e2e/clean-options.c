/*
 * Clean with every kind of valid KASAN_OPTIONS value: flags, booleans, sizes with
 * suffixes, numbers, the log path; no report, no message.
 */
// ENV: KASAN_OPTIONS=kasan_multi_shot,kasan.fault=report kasan.stacktrace=on kasan.stack_depth=16 kasan.quarantine_size=1M kasan.stack_depot_size=64M kasan.vmalloc=on kasan.report_format=text kasan.log_path={tmpdir}/unused.log
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

int main(void)
{
	for (int i = 0; i < 10000; i++) {
		char *p = malloc(opaque_size((size_t)i % 500 + 1));

		memset(p, 1, (size_t)i % 500 + 1);
		free(p);
	}
	return 0;
}
