/*
 * vmalloc-out-of-bounds: one byte past a 3000-byte vmalloc area (its tail is
 * KASAN_VMALLOC_INVALID, 0xf8). Linux 6.14+ describes a vmalloc address in one line
 * (mm/kasan/report.c print_address_description, mm/vmalloc.c vmalloc_dump_obj): "The
 * buggy address belongs to a N-page vmalloc region starting at 0x... allocated at
 * <caller of vmalloc>", no Allocated by task block, then the physical page of the
 * (mapped) address: an order-0 page without page type. Lines as in syzbot's
 * "KASAN: stack-out-of-bounds Read in ___sys_sendmsg"-style reports of 6.17 (a
 * vmapped stack: "The buggy address belongs to a 8-page vmalloc region starting at
 * 0xffffc90003840000 allocated at copy_process+0x54b/0x3c00 kernel/fork.c:2012", then
 * "The buggy address belongs to the physical page:", "page: refcount:1 mapcount:0
 * ...", "flags: 0x17ff00000000000(node=0|zone=2|lastcpupid=0x7ff)", no page_type).
 */
#include <stdio.h>
#include <string.h>

#include <kasan.h>

#include "e2e.h"

KT_NOINLINE char *make_area(unsigned long n)
{
	char *p = vmalloc(n);

	memset(p, 'v', n);
	return p;
}

KT_NOINLINE char read_byte(const char *p, size_t i)
{
	return ((const volatile char *)p)[i];
}

int main(void)
{
	char *p = make_area(opaque_size(3000));

	KT_ADDR("p", p);
	printf("KASAN-TEST pfn=%#lx\n", (unsigned long)p >> 12);
	fflush(stdout);
	// CHECK: BUG: KASAN: vmalloc-out-of-bounds in read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+3000} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} read_byte+0x
	// CHECK-NOT: which belongs to the cache
	// CHECK-NOT: Allocated by task
	// CHECK: {^} </TASK>{$}
	// CHECK-NEXT: {^}{$}
	// CHECK-NEXT: {^}The buggy address belongs to a 1-page vmalloc region starting at {hex:p} allocated at make_area+0x{*}/0x{*} {*}vmalloc-oob.c:{*}{$}
	// CHECK-NEXT: {^}The buggy address belongs to the physical page:{$}
	// CHECK-NEXT: {^}page: refcount:1 mapcount:0 mapping:0000000000000000 index:0x0 pfn:{hex:pfn}{$}
	// CHECK-NEXT: {^}flags: 0x17ff00000000000(node=0|zone=2|lastcpupid=0x7ff){$}
	// CHECK-NEXT: {^}raw: 017ff00000000000 0000000000000000 0000000000000000 0000000000000000{$}
	// CHECK-NEXT: {^}raw: 0000000000000000 0000000000000000 00000001ffffffff 0000000000000000{$}
	// CHECK-NEXT: {^}page dumped because: kasan: bad access detected{$}
	// CHECK-NEXT: {^}{$}
	// CHECK-NEXT: {^}Memory state around the buggy address:{$}
	// CHECK: {^}>{row:p+3000}: {*}f8
	// CHECK-NEXT: {caret:p+3000}
	char c = read_byte(p, opaque_size(3000));
	kt_barrier();
	vfree(p);
	(void)c;
	return 0;
}
