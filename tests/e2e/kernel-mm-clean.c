/*
 * Clean twin of the kernel-mm bug tests: Linux's memory-management helpers used
 * correctly print nothing. struct page round trips (alloc_pages, page_address,
 * virt_to_page, virt_to_phys/phys_to_virt, kfree through the page address, as
 * Linux's kfree_via_page/kfree_via_phys), vmalloc_to_page and is_vmalloc_addr,
 * set_memory_ro/rw on a vmalloc area (then written), vrealloc shrinking and
 * growing in place and moving, kmalloc_node/_track_caller, the __copy_*_user
 * variants and copy_to_kernel_nofault within bounds, atomics and bitops in bounds.
 */
#include <string.h>

#include <kasan.h>
#include <kasan_atomic.h>

#include "e2e.h"

int main(void)
{
	struct page *pg = alloc_pages(GFP_KERNEL, 2);
	char *p = page_address(pg);
	int bad = 0;

	bad |= p == NULL || virt_to_page(p) != pg || virt_to_page(p + 3 * 4096) != pg + 3;
	memset(p, 1, 4 * 4096);
	__free_pages(pg, 2);

	char *k = kmalloc(opaque_size(8), GFP_KERNEL);
	kfree((char *)page_address(virt_to_page(k)) + offset_in_page(k));
	k = kmalloc(opaque_size(8), GFP_KERNEL);
	kfree(phys_to_virt(virt_to_phys(k)));

	char *v = vmalloc(opaque_size(3000));
	bad |= !is_vmalloc_addr(v) || is_vmalloc_addr(&bad) || vmalloc_to_page(v) == NULL;
	bad |= set_memory_ro((unsigned long)v, 1) != 0 || set_memory_rw((unsigned long)v, 1) != 0;
	bad |= set_memory_ro((unsigned long)&bad, 1) != -22;
	v[0] = 1;
	bad |= set_memory_ro((unsigned long)v, 1) != 0;
	vfree(v); /* read-only when freed: the next area on these pages is writable */
	v = vmalloc(opaque_size(3000));
	v[0] = 2;
	v = vrealloc(v, opaque_size(100), GFP_KERNEL);
	v[99] = 3;
	v = vrealloc(v, opaque_size(4000), GFP_KERNEL | __GFP_ZERO);
	bad |= v[0] != 2 || v[3999] != 0;
	v = vrealloc(v, opaque_size(3 * 4096 + 5), GFP_KERNEL);
	bad |= v[0] != 2;
	v[3 * 4096 + 4] = 4;
	bad |= vrealloc(v, 0, GFP_KERNEL) != NULL;

	char *a = kmalloc_node(opaque_size(100), GFP_KERNEL, 0);
	char *b = kzalloc_node(opaque_size(100), GFP_KERNEL, 0);
	char *c = kmalloc_track_caller(opaque_size(100), GFP_KERNEL);
	char *d = kmalloc_node_track_caller(opaque_size(100), GFP_KERNEL, 0);
	a[99] = c[99] = d[99] = b[99];
	char user[100] = "user";
	bad |= __copy_to_user(user, a, 100) || __copy_from_user(a, user, 100);
	bad |= __copy_to_user_inatomic(user, b, 100) || __copy_from_user_inatomic(b, user, 100);
	bad |= copy_to_kernel_nofault(c, d, 100) != 0;

	atomic_t *at = kzalloc(sizeof(*at), GFP_KERNEL);
	atomic_inc(at);
	bad |= atomic_read(at) != 1 || !atomic_dec_and_test(at) || atomic_cmpxchg(at, 0, 5) != 0;
	long *bits = kzalloc(sizeof(long), GFP_KERNEL);
	set_bit(3, bits);
	bad |= !test_bit(3, bits) || !test_and_clear_bit(3, bits) || *bits != 0;
	kfree(a); kfree(b); kfree(c); kfree(d); kfree(at); kfree(bits);
	return bad;
}
