/*
 * KASAN_OPTIONS over 64 KiB: one error line names the limit and the parameter the
 * limit cuts (kasan.fault=panic, which does not apply: the program survives its bugs);
 * the parameters complete within the first 64 KiB apply (kasan_multi_shot: both bugs
 * are reported), their own errors are printed before it, and the program runs.
 */
#include <stdlib.h>
#include <string.h>

#include "rt-opt.h"

int main(int argc, char **argv)
{
	char *v;

	(void)argc;
	/* 65536 bytes ending in "kasan.fault=pa", then "nic kasan.stats=on" beyond. */
	v = rt_opt_value(65536, "kasan_multi_shot kasan.bogus", " kasan.fault=pa");
	v = realloc(v, 65536 + 32);
	strcpy(v + 65536, "nic kasan.stats=on");
	rt_opt_rerun(argv, v);
	// CHECK: {^}kasan: KASAN_OPTIONS: unknown parameter 'kasan.bogus' (`kasan options` lists them){$}
	// CHECK-NEXT: {^}kasan: KASAN_OPTIONS: 65554 bytes, over the limit of 65536: the parameters within the first 65536 bytes apply; 'kasan.fault=pa', cut at the limit, and the rest are ignored{$}
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
	// CHECK-NOT: kasan: stats:
	free(p);
	return 0;
}
