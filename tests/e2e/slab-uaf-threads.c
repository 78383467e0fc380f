/*
 * slab-use-after-free across threads: allocated by one thread, freed by another, used
 * by the main thread. The report names each task by its thread id.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "e2e.h"

static char *obj;

KT_NOINLINE static void *allocator(void *arg)
{
	(void)arg;
	KT_NUM("alloc_tid", syscall(SYS_gettid));
	obj = malloc(opaque_size(100));
	memset(obj, 'x', 100);
	kt_barrier();
	return NULL;
}

KT_NOINLINE static void *freer(void *arg)
{
	(void)arg;
	KT_NUM("free_tid", syscall(SYS_gettid));
	free(opaque_ptr(obj));
	kt_barrier();
	return NULL;
}

KT_NOINLINE char read_byte(const char *p, size_t i)
{
	return ((const volatile char *)p)[i];
}

int main(void)
{
	pthread_t t;

	pthread_create(&t, NULL, allocator, NULL);
	pthread_join(t, NULL);
	KT_ADDR("p", obj);
	pthread_create(&t, NULL, freer, NULL);
	pthread_join(t, NULL);
	// CHECK: BUG: KASAN: slab-use-after-free in read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+99} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} read_byte+0x
	// CHECK-NEXT: {^} main+0x
	// CHECK: {^}Allocated by task {alloc_tid}:{$}
	// CHECK-NEXT: {^} malloc+0x
	// CHECK-NEXT: {^} allocator+0x
	// CHECK: {^}Freed by task {free_tid}:{$}
	// CHECK-NEXT: {^} free+0x
	// CHECK-NEXT: {^} freer+0x
	// CHECK: The buggy address belongs to the object at {p}
	// CHECK-NEXT:  which belongs to the cache kmalloc-128 of size 128
	// CHECK-NEXT: The buggy address is located 99 bytes inside of
	// CHECK-NEXT:  freed 128-byte region [{p}, {p+128})
	char c = read_byte(opaque_ptr(obj), opaque_size(99));
	kt_barrier();
	return c == 'y';
}
