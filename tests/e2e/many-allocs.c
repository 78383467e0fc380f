/*
 * After two million allocations and frees (quarantine cycling many times over), a
 * use-after-free still names the right allocation and free stacks. (A freed object
 * is described by its cache size, as Linux does: its shadow no longer says more.)
 */
#include <stdlib.h>

#include "e2e.h"

KT_NOINLINE void *make(size_t n)
{
	void *p = malloc(n);
	kt_barrier();
	return p;
}

KT_NOINLINE void drop(void *p)
{
	free(p);
	kt_barrier();
}

KT_NOINLINE char read_at(const char *p, size_t off)
{
	return *(const volatile char *)(p + off);
}

int main(void)
{
	void *ring[256] = { 0 };

	for (int i = 0; i < 2000000; i++) {
		int k = i & 255;
		free(ring[k]);
		ring[k] = malloc(opaque_size(16 + (i % 200)));
		((char *)ring[k])[0] = 1;
	}
	for (int k = 0; k < 256; k++)
		free(ring[k]);
	char *p = make(opaque_size(40));
	KT_ADDR("p", p);
	drop(p);
	// CHECK: BUG: KASAN: slab-use-after-free in read_at+0x
	// CHECK: {^}Allocated by task {pid}:{$}
	// CHECK-NEXT: {^} malloc+0x
	// CHECK-NEXT: {^} make+0x
	// CHECK-NEXT: {^} main+0x
	// CHECK: {^}Freed by task {pid}:{$}
	// CHECK-NEXT: {^} free+0x
	// CHECK-NEXT: {^} drop+0x
	// CHECK-NEXT: {^} main+0x
	// CHECK: freed 64-byte region [{p}, {p+64})
	read_at(opaque_ptr(p), 8);
	kt_barrier();
	return 0;
}
