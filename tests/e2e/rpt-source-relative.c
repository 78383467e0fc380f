/*
 * Source paths in frames are printed relative to the compilation directory
 * (DW_AT_comp_dir) when the file lies under it, as Linux's reports (through
 * scripts/decode_stacktrace.sh) print paths relative to the kernel tree, e.g.
 * syzbot's "dump_stack_lvl+0x116/0x1f0 lib/dump_stack.c:120" ("[syzbot] [fbdev?]
 * KASAN: vmalloc-out-of-bounds Write in imageblit (5)", Linux 6.17-rc5).
 *
 * The e2e harness compiles this file by its absolute path from a job directory, so
 * it does not lie under the compilation directory and would print whole; the
 * `#line` below names it relative, i.e. as a file in the compilation directory
 * (DWARF joins the two): its frames print "sub/rpt-source-relative.c:<line>" with
 * no directory before it. The runtime's own frame (the allocator entry) is relative
 * to the directory its crate was built in (the workspace root). e2e.h, included
 * by its absolute path, keeps it.
 */
#include <stdlib.h>

#include "e2e.h"

#line 1 "sub/rpt-source-relative.c"

KT_NOINLINE char *make(size_t n)
{
	char *p = malloc(n);

	kt_barrier();
	return p;
}

KT_NOINLINE char read_byte(const char *p, size_t i)
{
	return ((const volatile char *)p)[i];
}

int main(void)
{
	char *p = make(opaque_size(8));

	KT_ADDR("p", p);
	// CHECK: BUG: KASAN: slab-out-of-bounds in read_byte+0x
	// CHECK: {^} <TASK>{$}
	// CHECK-NEXT: {^} read_byte+0x{*}/0x{*} sub/rpt-source-relative.c:{*}{$}
	// CHECK-NEXT: {^} main+0x{*}/0x{*} sub/rpt-source-relative.c:{*}{$}
	// CHECK: {^}Allocated by task {pid}:{$}
	// CHECK-NEXT: {^} malloc+0x
	// CHECK-NEXT: {^} make+0x{*}/0x{*} sub/rpt-source-relative.c:{*}{$}
	// CHECK-NOT: /sub/rpt-source-relative.c
	read_byte(p, opaque_size(8));
	kt_barrier();
	free(p);
	return 0;
}
