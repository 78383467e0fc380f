/*
 * sw-tags twin of vmalloc-churn-threads.c: the same two threads allocating and
 * freeing areas of 1 to 40 pages (some aligned up to 256 KiB) past several lazy
 * purges, so populates and releases of the tag shadow run concurrently on
 * neighbouring areas and on the tag shadow pages they share (one page describes
 * 64 KiB here). Nothing is reported in the churn (a page released while an area
 * still used it would fault or read as the invalid tag). Then a 1 MiB-aligned area:
 * its untagged address is a multiple of the alignment, and a read in the granule
 * after its last (tag modes have no short granules: 3000 rounds up to 3008) is an
 * invalid-access against memory tag [0e].
 */
// ENV: KASAN_OPTIONS=kasan.quarantine_size=0
// REPORTS: 1
#include <stdio.h>

#define VMALLOC_CHURN_ONLY
#include "vmalloc-churn-threads.c"

int main(void)
{
	if (churn())
		return 10 + failures;

	char *p = __vmalloc_node(opaque_size(3000), 1 << 20, 0, -1, 0);
	if ((uintptr_t)kasan_reset_tag(p) & ((1 << 20) - 1))
		return 3;
	KT_ADDR("p", p);
	printf("KASAN-TEST ptag=[%02x]\n", kasan_get_tag(p));
	fflush(stdout);
	memset(p, 1, 3000);
	if (read_at(p, 2999) != 1)
		return 4;
	// CHECK: BUG: KASAN: invalid-access in read_at+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+3008} by task {comm}/{pid}{$}
	// CHECK-NEXT: {^}Pointer tag: {ptag}, memory tag: [0e]{$}
	read_at(opaque_ptr(p), opaque_size(3008));
	kt_barrier();
	vfree(p);
	return 0;
}
