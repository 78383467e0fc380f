/*
 * A 5 KiB KASAN_OPTIONS is read whole: kasan_multi_shot at its very end applies (both
 * bugs are reported). A 3 KiB malformed value in it is one whole error line, the value
 * cut with "..." and its length given, and the program runs.
 */
#include <stdlib.h>
#include <string.h>

#include "rt-opt.h"

int main(int argc, char **argv)
{
	char head[3100] = "kasan.log_path=/";

	(void)argc;
	memset(head + 16, 'a', 3000);
	head[3016] = 0;
	rt_opt_rerun(argv, rt_opt_value(5120, head, " kasan_multi_shot"));
	// CHECK: {^}kasan: KASAN_OPTIONS: malformed parameter 'kasan.log_path=/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' (3016 bytes): expected <path> of at most 255 bytes of UTF-8{$}
	KT_MARK("main runs");
	// CHECK-NEXT: {^}main runs{$}
	// CHECK-NOT: KASAN_OPTIONS: unknown
	char *p = malloc(opaque_size(16));

	memset(p, 0, 16);
	KT_ADDR("p", p);
	// CHECK: BUG: KASAN: slab-out-of-bounds in rt_opt_read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+16} by task {comm}/{pid}{$}
	// CHECK: BUG: KASAN: slab-out-of-bounds in rt_opt_read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+17} by task {comm}/{pid}{$}
	rt_opt_read_byte(p, (long)opaque_size(16));
	rt_opt_read_byte(p, (long)opaque_size(17));
	free(p);
	return 0;
}
