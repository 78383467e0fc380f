/*
 * sw-tags vmap and vm_map_ram (Linux KUnit vmap_tags, vm_map_ram_tags): the area
 * gets a random tag of its own, writes through either address show at the other,
 * vmalloc_to_page gives the page back, a forked child keeps the aliasing on its
 * private copy of the heap without touching the parent's, and vfree of a vmap
 * area ends the mapping. A clean program: nothing is reported.
 */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kasan.h>

#include "e2e.h"

int main(void)
{
	struct page *pg = alloc_pages(GFP_KERNEL, 1);
	char *p = page_address(pg);
	char *v = vmap(&pg, 1, VM_MAP, PAGE_KERNEL);
	int bad = v == NULL || kasan_get_tag(v) > KASAN_TAG_MAX;

	p[0] = 'a';
	v[1] = 'b';
	bad |= v[0] != 'a' || p[1] != 'b' || vmalloc_to_page(v) != pg;
	pid_t child = fork();
	if (child == 0) {
		v[2] = 'c';
		_exit(p[2] == 'c' ? 0 : 3);
	}
	int status = 0;
	waitpid(child, &status, 0);
	bad |= !WIFEXITED(status) || WEXITSTATUS(status) != 0 || p[2] != 0;
	vunmap(v);
	bad |= p[0] != 'a';
	char *w = vm_map_ram(&pg, 1, -1);
	bad |= w == NULL || kasan_get_tag(w) > KASAN_TAG_MAX;
	w[0] = 'z';
	bad |= p[0] != 'z';
	vm_unmap_ram(w, 1);
	char *x = vmap(&pg, 1, VM_MAP, PAGE_KERNEL);
	vfree(x);
	x = vmalloc(4096);
	x[0] = 'y';
	bad |= p[0] != 'z';
	vfree(x);
	free_pages((unsigned long)p, 1);
	return bad;
}
