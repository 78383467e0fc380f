/*
 * slab-out-of-bounds, write: one byte past a 13-byte allocation (the README's bug).
 */
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

__attribute__((noinline)) static char *dup_name(const char *name)
{
	size_t len = strlen(name);
	char *copy = malloc(len); /* no room for the NUL */

	KT_ADDR("p", copy);
	for (size_t i = 0; i < len; i++)
		copy[i] = name[i];
	// CHECK: ==================================================================
	// CHECK-NEXT: BUG: KASAN: slab-out-of-bounds in dup_name+0x
	// CHECK-NEXT: {^}Write of size 1 at addr {p+13} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} dup_name+0x{*}/0x{*} {*}slab-oob-write.c:
	// CHECK-NEXT: {^} main+0x
	copy[len] = '\0';
	return copy;
}

int main(void)
{
	char *s = dup_name(opaque_ptr("hello, kasan!"));

	// CHECK: Allocated by task {pid}:
	// CHECK-NEXT: {^} malloc+0x
	// CHECK-NEXT: {^} dup_name+0x
	// CHECK-NEXT: {^} main+0x
	// CHECK-NOT: Freed by task
	// CHECK: The buggy address belongs to the object at {p}
	// CHECK-NEXT:  which belongs to the cache kmalloc-16 of size 16
	// CHECK-NEXT: The buggy address is located 0 bytes to the right of
	// CHECK-NEXT:  allocated 13-byte region [{p}, {p+13})
	// CHECK-NEXT: {^}{$}
	// The slab's page (a compound page of the runtime's slab size), as Linux 6.15's
	// dump_page prints a slab (syzkaller pkg/report/testdata/linux/report/740:
	// "page: refcount:0 ...", "head: order:3 mapcount:0 entire_mapcount:0
	// nr_pages_mapped:0 pincount:0", "flags: ...(head|node=0|zone=1|...)",
	// "page_type: f5(slab)", raw and head words).
	// CHECK-NEXT: {^}The buggy address belongs to the physical page:{$}
	// CHECK-NEXT: {^}page: refcount:0 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x{*}{$}
	// CHECK-NEXT: {^}head: order:{*} mapcount:0 entire_mapcount:0 nr_pages_mapped:0 pincount:0{$}
	// CHECK-NEXT: {^}flags: 0x17ff00000000040(head|node=0|zone=2|lastcpupid=0x7ff){$}
	// CHECK-NEXT: {^}page_type: f5(slab){$}
	// CHECK-NEXT: {^}raw: 017ff00000000040 0000000000000000 0000000000000000 0000000000000000{$}
	// CHECK-NEXT: {^}raw: {*} 00000000f5000000 0000000000000000{$}
	// CHECK: {^}page dumped because: kasan: bad access detected{$}
	// CHECK-NEXT: {^}{$}
	// CHECK-NEXT: Memory state around the buggy address:
	// CHECK-NEXT: {^} {row:p-256}: fc
	// CHECK-NEXT: {^} {row:p-128}: fc
	// CHECK-NEXT: {^}>{row:p+13}: 00 05 fc
	// CHECK-NEXT: {caret:p+13}
	// CHECK-NEXT: {^} {row:p+128}: fc
	// CHECK-NEXT: {^} {row:p+256}: fc
	// CHECK-NEXT: {^}=================================================================={$}
	KT_MARK("after the report");
	// CHECK-NEXT: after the report
	puts(s);
	free(s);
	return 0;
}
