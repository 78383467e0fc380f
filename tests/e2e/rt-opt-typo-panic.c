/*
 * A mistyped parameter next to kasan.fault=panic: each bad parameter is one whole
 * error line naming it and what was expected, the program runs, and kasan.fault=panic
 * still applies, so the program aborts on its bug (as a kernel treats its command line).
 */
// ENV: KASAN_OPTIONS=kasan.falut=report kasan.fault=panic kasan.stacktrace=maybe,kasan.stack_depth=1000 kasan.fault
// EXIT: SIGABRT
#include <stdlib.h>
#include <string.h>

#include "rt-opt.h"

int main(void)
{
	// CHECK: {^}kasan: KASAN_OPTIONS: unknown parameter 'kasan.falut=report' (`kasan options` lists them){$}
	// CHECK-NEXT: {^}kasan: KASAN_OPTIONS: malformed parameter 'kasan.stacktrace=maybe': expected on|off{$}
	// CHECK-NEXT: {^}kasan: KASAN_OPTIONS: parameter 'kasan.stack_depth=1000' out of range: expected 1..=256{$}
	// CHECK-NEXT: {^}kasan: KASAN_OPTIONS: malformed parameter 'kasan.fault': expected report|panic|panic_on_write{$}
	KT_MARK("main runs");
	// CHECK-NEXT: {^}main runs{$}
	char *p = malloc(opaque_size(16));

	memset(p, 0, 16);
	KT_ADDR("p", p);
	// CHECK: BUG: KASAN: slab-out-of-bounds in rt_opt_read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+16} by task {comm}/{pid}{$}
	// CHECK: {^}Kernel panic - not syncing: kasan.fault=panic set ...
	rt_opt_read_byte(p, (long)opaque_size(16));
	KT_MARK("survived the panic");
	// CHECK-NOT: survived the panic
	free(p);
	return 0;
}
