/*
 * Every allocation size from 1 to 64: malloc(n), then read p[n]. Each read is
 * reported as 0 bytes to the right of an n-byte region in the right kmalloc cache
 * (kmalloc-8 up to 8 bytes, then 16, 32, 64), with the caret under p + n.
 */
// ENV: KASAN_OPTIONS=kasan_multi_shot
#include <stdlib.h>
#include <string.h>

#include <kasan.h>

#include "e2e.h"

KT_NOINLINE char read_past_end(const char *p, size_t n)
{
	return ((const volatile char *)p)[n];
}

int main(void)
{
	char name[16];
	char *p[65];

	for (size_t n = 1; n <= 64; n++) {
		p[n] = malloc(opaque_size(n));
		memset(p[n], 'x', n);
		snprintf(name, sizeof name, "p%zu", n);
		KT_ADDR(name, p[n]);
	}
	for (size_t n = 1; n <= 64; n++) {
		read_past_end(p[n], opaque_size(n));
		kt_barrier();
	}
	// FOR: n=1..8
	// CHECK: BUG: KASAN: slab-out-of-bounds in read_past_end+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p{n}+{n}} by task {comm}/{pid}{$}
	// CHECK: The buggy address belongs to the object at {p{n}}
	// CHECK-NEXT:  which belongs to the cache kmalloc-8 of size 8
	// CHECK-NEXT: The buggy address is located 0 bytes to the right of
	// CHECK-NEXT:  allocated {n}-byte region [{p{n}}, {p{n}+{n}})
	// CHECK: {^}>{row:p{n}+{n}}: 
	// CHECK-NEXT: {caret:p{n}+{n}}
	// END-FOR
	// FOR: n=9..16
	// CHECK: BUG: KASAN: slab-out-of-bounds in read_past_end+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p{n}+{n}} by task {comm}/{pid}{$}
	// CHECK: The buggy address belongs to the object at {p{n}}
	// CHECK-NEXT:  which belongs to the cache kmalloc-16 of size 16
	// CHECK-NEXT: The buggy address is located 0 bytes to the right of
	// CHECK-NEXT:  allocated {n}-byte region [{p{n}}, {p{n}+{n}})
	// CHECK: {^}>{row:p{n}+{n}}: 
	// CHECK-NEXT: {caret:p{n}+{n}}
	// END-FOR
	// FOR: n=17..32
	// CHECK: BUG: KASAN: slab-out-of-bounds in read_past_end+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p{n}+{n}} by task {comm}/{pid}{$}
	// CHECK: The buggy address belongs to the object at {p{n}}
	// CHECK-NEXT:  which belongs to the cache kmalloc-32 of size 32
	// CHECK-NEXT: The buggy address is located 0 bytes to the right of
	// CHECK-NEXT:  allocated {n}-byte region [{p{n}}, {p{n}+{n}})
	// CHECK: {^}>{row:p{n}+{n}}: 
	// CHECK-NEXT: {caret:p{n}+{n}}
	// END-FOR
	// FOR: n=33..64
	// CHECK: BUG: KASAN: slab-out-of-bounds in read_past_end+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p{n}+{n}} by task {comm}/{pid}{$}
	// CHECK: The buggy address belongs to the object at {p{n}}
	// CHECK-NEXT:  which belongs to the cache kmalloc-64 of size 64
	// CHECK-NEXT: The buggy address is located 0 bytes to the right of
	// CHECK-NEXT:  allocated {n}-byte region [{p{n}}, {p{n}+{n}})
	// CHECK: {^}>{row:p{n}+{n}}: 
	// CHECK-NEXT: {caret:p{n}+{n}}
	// END-FOR
	fprintf(stderr, "reports: %d\n", kasan_reports_count());
	// CHECK: {^}reports: 64{$}
	for (size_t n = 1; n <= 64; n++)
		free(p[n]);
	return 0;
}
