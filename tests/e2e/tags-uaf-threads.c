/*
 * sw-tags: allocated by one thread pinned to CPU 0, freed by another pinned to the
 * last CPU, used by the main thread. With kasan.stack_ring=percpu the alloc and the
 * free sit in different rings; the report's merge by timestamp still finds both and
 * takes the free as the newest (slab-use-after-free). Each task is named by its
 * thread id.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <kasan.h>

#include "e2e.h"

static char *obj;

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof set, &set);
}

KT_NOINLINE static void *allocator(void *arg)
{
	(void)arg;
	pin(0);
	KT_NUM("alloc_tid", syscall(SYS_gettid));
	obj = malloc(opaque_size(100));
	memset(obj, 'x', 100);
	kt_barrier();
	return NULL;
}

KT_NOINLINE static void *freer(void *arg)
{
	(void)arg;
	pin((int)sysconf(_SC_NPROCESSORS_ONLN) - 1);
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
	KT_ADDR("u", kasan_reset_tag(obj));
	pthread_create(&t, NULL, freer, NULL);
	pthread_join(t, NULL);
	// CHECK: BUG: KASAN: slab-use-after-free in read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+99} by task {comm}/{pid}{$}
	// CHECK: {^}Allocated by task {alloc_tid}:{$}
	// CHECK-NEXT: {^} malloc+0x
	// CHECK-NEXT: {^} allocator+0x
	// CHECK: {^}Freed by task {free_tid}:{$}
	// CHECK-NEXT: {^} free+0x
	// CHECK-NEXT: {^} freer+0x
	// CHECK: The buggy address belongs to the object at {u}
	// CHECK-NEXT:  which belongs to the cache kmalloc-128 of size 128
	// CHECK-NEXT: The buggy address is located 99 bytes inside of
	// CHECK-NEXT:  128-byte region [{u}, {u+128})
	char c = read_byte(opaque_ptr(obj), opaque_size(99));
	kt_barrier();
	return c == 'y';
}
