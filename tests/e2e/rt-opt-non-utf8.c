/*
 * Bytes that are not UTF-8 make only their own parameter malformed: each is named,
 * escaped as \xNN, and skipped; the other parameters apply (kasan_multi_shot: both
 * bugs are reported) and the program runs to its end.
 */
#include <stdlib.h>
#include <string.h>

#include "rt-opt.h"

int main(int argc, char **argv)
{
	(void)argc;
	rt_opt_rerun(argv, "kasan.fa\xff" "ult=panic kasan_multi_shot kasan.fault=pa\xc3nic,"
			   "kasan.log_path=/tmp/\xfe\xfd kasan.stack_depth=8");
	// CHECK: {^}kasan: KASAN_OPTIONS: unknown parameter 'kasan.fa\xffult=panic' (`kasan options` lists them){$}
	// CHECK-NEXT: {^}kasan: KASAN_OPTIONS: malformed parameter 'kasan.fault=pa\xc3nic': expected report|panic|panic_on_write{$}
	// CHECK-NEXT: {^}kasan: KASAN_OPTIONS: malformed parameter 'kasan.log_path=/tmp/\xfe\xfd': expected <path> of at most 255 bytes of UTF-8{$}
	KT_MARK("main runs");
	// CHECK-NEXT: {^}main runs{$}
	char *p = malloc(opaque_size(16));

	memset(p, 0, 16);
	KT_ADDR("p", p);
	// CHECK: BUG: KASAN: slab-out-of-bounds in rt_opt_read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+16} by task {comm}/{pid}{$}
	// CHECK: BUG: KASAN: slab-out-of-bounds in rt_opt_read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+17} by task {comm}/{pid}{$}
	rt_opt_read_byte(p, (long)opaque_size(16));
	rt_opt_read_byte(p, (long)opaque_size(17));
	KT_MARK("main ends");
	// CHECK: {^}main ends{$}
	free(p);
	return 0;
}
