/*
 * vmalloc-out-of-bounds in a vmalloc area's guard page (the page after its last
 * one, never mapped): the 6.14+ vmalloc line and no physical page, since there is
 * none (mm/kasan/report.c print_address_description: the page section only when
 * vmalloc_to_page finds a page), so "Memory state" follows the vmalloc line
 * directly. As in syzbot's "[syzbot] [fbdev?] KASAN: vmalloc-out-of-bounds Write in
 * imageblit (5)" (Linux 6.17-rc5):
 *   The buggy address belongs to a 0-page vmalloc region starting at 0xffffc90003349000 allocated at drm_gem_shmem_vmap_locked+0x561/0x7e0 drivers/gpu/drm/drm_gem_shmem_helper.c:371
 *   Memory state around the buggy address:
 * The read goes through memcpy, which skips a copy it reported (as Linux's checked
 * memcpy), so the guard page is never touched.
 */
#include <string.h>

#include <kasan.h>

#include "e2e.h"

KT_NOINLINE char *make_area(unsigned long n)
{
	char *p = vmalloc(n);

	memset(p, 'v', n);
	return p;
}

KT_NOINLINE void *copy_out(void *dst, const char *src, size_t n)
{
	void *r = memcpy(dst, src, n);

	kt_barrier();
	return r;
}

int main(void)
{
	char buf[8];
	char *p = make_area(opaque_size(3000));

	KT_ADDR("p", p);
	// CHECK: BUG: KASAN: vmalloc-out-of-bounds in copy_out+0x
	// CHECK-NEXT: {^}Read of size 8 at addr {p+4096} by task {comm}/{pid}{$}
	// CHECK-NOT: Allocated by task
	// CHECK-NOT: The buggy address belongs to the physical page
	// CHECK: {^} </TASK>{$}
	// CHECK-NEXT: {^}{$}
	// CHECK-NEXT: {^}The buggy address belongs to a 1-page vmalloc region starting at {hex:p} allocated at make_area+0x{*}{$}
	// CHECK-NEXT: {^}Memory state around the buggy address:{$}
	// CHECK: {^}>{row:p+4096}: f8 f8
	// CHECK-NEXT: {caret:p+4096}
	copy_out(buf, opaque_ptr(p + 4096), opaque_size(8));
	KT_MARK("went on");
	// CHECK: {^}went on{$}
	vfree(p);
	return 0;
}
