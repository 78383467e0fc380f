/*
 * Clean twin of null-ptr-deref.c / wild-access.c: accesses near the bottom of the
 * address space that are valid (two pages mapped at the lowest address that has
 * shadow, 0x10000, or the kernel's mmap_min_addr if that is higher) and a NULL
 * pointer that is only compared, never dereferenced, give no report and no fault.
 * (Pages below 0x10000 have no shadow: see ARCHITECTURE.md, kasan-hosted.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "e2e.h"

KT_NOINLINE long get(const long *p, long i)
{
	return ((const volatile long *)p)[i];
}

KT_NOINLINE void set(long *p, long i, long v)
{
	((volatile long *)p)[i] = v;
}

int main(void)
{
	unsigned long low = 65536;
	FILE *f = fopen("/proc/sys/vm/mmap_min_addr", "r");
	long sum = 0;

	if (f) {
		if (fscanf(f, "%lu", &low) != 1)
			low = 65536;
		fclose(f);
	}
	if (low < 0x10000)
		low = 0x10000;
	low = (low + 4095) & ~4095UL;
	char *page = mmap((void *)low, 8192, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (page == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	for (long i = 0; i < 1024; i++)
		set(opaque_ptr(page), i, i);
	for (long i = 0; i < 1024; i++)
		sum += get(opaque_ptr(page), i);
	munmap(page, 8192);
	if (opaque_ptr(NULL) != NULL)
		sum += get(opaque_ptr(NULL), 1);
	return sum != 1023L * 1024 / 2;
}
