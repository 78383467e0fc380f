/*
 * A program that limits its address space (setrlimit(RLIMIT_AS, 64 MiB)) after
 * start-up, then has a heap bug: the report is printed whole and the program goes
 * on. The first report used to abort with "memory allocation of 20 bytes failed"
 * (exit 134, no report), as the runtime's own allocator (used by the symbolizer)
 * mapped its memory on demand; it now carves it from address space reserved at
 * start-up. The symbolizer cannot map the binary under the limit: it reads it into
 * that memory instead, so the frames keep their names. The limit really holds: a 128 MiB
 * mmap fails.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "e2e.h"

KT_NOINLINE char *alloc_buf(size_t n)
{
	char *p = malloc(n);

	memset(p, 'x', n);
	return p;
}

KT_NOINLINE char read_byte(const char *p, size_t i)
{
	return ((const volatile char *)p)[i];
}

int main(void)
{
	struct rlimit lim = { 64ul << 20, 64ul << 20 };
	char *p = alloc_buf(opaque_size(20));

	KT_ADDR("p", p);
	if (setrlimit(RLIMIT_AS, &lim) != 0) {
		KT_MARK("setrlimit failed");
		return 1;
	}
	if (mmap(NULL, 128ul << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED)
		KT_MARK("128 MiB mmap failed under the limit");
	// CHECK: {^}128 MiB mmap failed under the limit{$}
	// CHECK-NEXT: ==================================================================
	// CHECK-NEXT: BUG: KASAN: slab-out-of-bounds in read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+20} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} read_byte+0x{*} {*}rt-oom-rlimit-as.c:
	// CHECK-NEXT: {^} main+0x
	// CHECK: {^}Allocated by task {pid}:{$}
	// CHECK-NEXT: {^} malloc+0x
	// CHECK-NEXT: {^} alloc_buf+0x{*} {*}rt-oom-rlimit-as.c:
	// CHECK-NEXT: {^} main+0x
	// CHECK: The buggy address belongs to the object at {p}
	// CHECK-NEXT:  which belongs to the cache kmalloc-32 of size 32
	// CHECK-NEXT: The buggy address is located 0 bytes to the right of
	// CHECK-NEXT:  allocated 20-byte region [{p}, {p+20})
	// CHECK: Memory state around the buggy address:
	// CHECK: {^}>{row:p}: {*}
	// CHECK-NEXT: {caret:p+20}
	// CHECK: {^}=================================================================={$}
	read_byte(opaque_ptr(p), opaque_size(20));
	kt_barrier();
	KT_MARK("went on after the report");
	// CHECK-NEXT: went on after the report
	free(p);
	return 0;
}
