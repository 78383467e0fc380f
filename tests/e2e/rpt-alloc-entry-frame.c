/*
 * Allocated by task / Freed by task stacks start with the allocator API function the
 * program called, then the program's frames; the runtime's own frames stay out.
 *
 * Linux 6.x prints KASAN's frames, the allocator's entry, then its caller, e.g. from
 * syzkaller pkg/report/testdata/linux/report/740 (6.15-rc1):
 *   Allocated by task 9483:
 *    kasan_save_stack+0x24/0x50
 *    kasan_save_track+0x14/0x30
 *    __kasan_slab_alloc+0x87/0x90
 *    kmem_cache_alloc_lru_noprof+0x165/0x4a0
 *    ntfs_alloc_inode+0x27/0x80
 *   Freed by task 15:
 *    ...
 *    __kasan_slab_free+0x54/0x70
 *    kmem_cache_free+0x14d/0x550
 *    i_callback+0x46/0x70
 * and from 737 (6.13-rc5) "__kasan_kmalloc+0xaa/0xb0" then the caller (kmalloc is
 * inline there), "kfree+0x14f/0x4b0" then the caller. The kasan_* frames and the
 * allocator's internals correspond to the runtime's own frames and are left out;
 * the entry the program called (kmalloc, kfree, kmem_cache_alloc, kmem_cache_free,
 * malloc, free) stands for the allocator's entry frame.
 */
// ENV: KASAN_OPTIONS=kasan_multi_shot
#include <stdlib.h>
#include <string.h>

#include <kasan.h>

#include "e2e.h"

KT_NOINLINE void *make_k(size_t n)
{
	void *p = kmalloc(n, GFP_KERNEL);

	kt_barrier();
	return p;
}

KT_NOINLINE void drop_k(void *p)
{
	kfree(p);
	kt_barrier();
}

KT_NOINLINE void *make_c(struct kmem_cache *c)
{
	void *p = kmem_cache_alloc(c, GFP_KERNEL);

	kt_barrier();
	return p;
}

KT_NOINLINE void drop_c(struct kmem_cache *c, void *p)
{
	kmem_cache_free(c, p);
	kt_barrier();
}

KT_NOINLINE char read_byte(const char *p, size_t i)
{
	return ((const volatile char *)p)[i];
}

int main(void)
{
	char *k = make_k(opaque_size(40));
	struct kmem_cache *c = kmem_cache_create("rpt_entry", 24, 8, 0, NULL);
	char *o = make_c(c);

	KT_ADDR("k", k);
	KT_ADDR("o", o);
	drop_k(k);
	drop_c(c, o);
	// CHECK: BUG: KASAN: slab-use-after-free in read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {k+1} by task {comm}/{pid}{$}
	// CHECK: {^}Allocated by task {pid}:{$}
	// CHECK-NEXT: {^} kmalloc+0x{*}/0x{*}{$}
	// CHECK-NEXT: {^} make_k+0x
	// CHECK-NEXT: {^} main+0x
	// CHECK: {^}Freed by task {pid}:{$}
	// CHECK-NEXT: {^} kfree+0x{*}/0x{*}{$}
	// CHECK-NEXT: {^} drop_k+0x
	// CHECK-NEXT: {^} main+0x
	read_byte(opaque_ptr(k), opaque_size(1));
	kt_barrier();
	// CHECK: BUG: KASAN: slab-use-after-free in read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {o+2} by task {comm}/{pid}{$}
	// CHECK: {^}Allocated by task {pid}:{$}
	// CHECK-NEXT: {^} kmem_cache_alloc+0x{*}/0x{*}{$}
	// CHECK-NEXT: {^} make_c+0x
	// CHECK: {^}Freed by task {pid}:{$}
	// CHECK-NEXT: {^} kmem_cache_free+0x{*}/0x{*}{$}
	// CHECK-NEXT: {^} drop_c+0x
	read_byte(opaque_ptr(o), opaque_size(2));
	kt_barrier();
	// CHECK-NOT: kasan::
	// CHECK-NOT: alloc_with
	kmem_cache_destroy(c);
	return 0;
}
