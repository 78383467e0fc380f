/*
 * JSON mode with a kasan.log_path that cannot be opened: the start-up error that says
 * so is a JSON warning line too, and the report goes to stderr, as a JSON line.
 */
// ENV: KASAN_OPTIONS=kasan.report_format=json kasan.log_path={tmpdir}/no/such/dir/x.log
// JSON-LINES: all
// REPORTS: 1
#include <stdlib.h>

#include "e2e.h"

KT_NOINLINE char read_byte(const char *p, size_t i)
{
	return ((const volatile char *)p)[i];
}

int main(void)
{
	char *p = malloc(opaque_size(13));

	// CHECK: {^}{"version":1,"kind":"warning","mode":"generic","warning":"cannot open kasan.log_path '{tmpdir}/no/such/dir/x.log': errno 2; reports go to stderr"}{$}
	// CHECK: {^}{"version":1,"kind":"report","mode":"generic","bug_type":"slab-out-of-bounds"
	read_byte(p, opaque_size(13));
	free(p);
	return 0;
}
