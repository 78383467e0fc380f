/*
 * KASAN_OPTIONS of exactly 64 KiB (the limit) is read whole, without a word:
 * kasan_multi_shot in its last bytes applies (both bugs are reported).
 */
#include <stdlib.h>
#include <string.h>

#include "rt-opt.h"

int main(int argc, char **argv)
{
	(void)argc;
	rt_opt_rerun(argv, rt_opt_value(65536, "kasan.stack_depth=16", " kasan_multi_shot"));
	KT_MARK("main runs");
	// CHECK: {^}main runs{$}
	// CHECK-NOT: KASAN_OPTIONS
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
