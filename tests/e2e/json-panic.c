/*
 * JSON mode, kasan.fault=panic: the report line, then the panic as one JSON object
 * (the text form is Linux's "Kernel panic - not syncing: kasan.fault=panic set ...",
 * opt-fault-panic.c), then the process aborts.
 */
// ENV: KASAN_OPTIONS=kasan.report_format=json kasan.fault=panic
// JSON-LINES: all
// EXIT: SIGABRT
// REPORTS: 1
#include <stdlib.h>

#include "e2e.h"

KT_NOINLINE void write_byte(char *p, long i)
{
	((volatile char *)p)[i] = 0;
}

int main(void)
{
	char *p = malloc(opaque_size(16));

	// CHECK: {^}{"version":1,"kind":"report","mode":"generic","bug_type":"slab-out-of-bounds"
	// CHECK-NEXT: {^}{"version":1,"kind":"panic","mode":"generic","panic":"kasan.fault=panic set ..."}{$}
	write_byte(p, (long)opaque_size(16));
	KT_MARK("survived the panic");
	// CHECK-NOT: survived the panic
	free(p);
	return 0;
}
