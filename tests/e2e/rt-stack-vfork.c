/*
 * A vfork child runs on its parent's stack, below the parent's stack pointer, and
 * here calls execve from deep inside instrumented frames, leaving their redzones in
 * the (shared) shadow. The runtime's vfork clears the shadow below the parent's stack
 * pointer when the parent resumes, so the parent's later memset/memcpy on buffers of
 * uninstrumented frames stay silent; a real bug afterwards is reported exactly.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "e2e.h"

#ifdef __clang__
#define NO_KASAN __attribute__((noinline, no_sanitize("kernel-address")))
#else
#define NO_KASAN __attribute__((noinline, noclone, no_sanitize_address))
#endif

static volatile int sink;

KT_NOINLINE int deep(int n)
{
	volatile char buf[100];

	buf[n % 100] = (char)n;
	if (n == 0) {
		/* execve is not noreturn, so no __asan_handle_no_return runs before it
		 * (as one does before _exit): the frames' poison stays. */
		char *argv[] = { "true", NULL };
		char *envp[] = { NULL };

		execve("/bin/true", argv, envp);
		_exit(127);
	}
	int r = deep(n - 1);
	return r + buf[(n * 3) % 100];
}

/* Not instrumented: its buffer's shadow is whatever the stack's shadow holds. */
NO_KASAN static void fill(int c)
{
	char big[32 << 10];
	char other[4096];

	/* opaque_ptr: the compiler must not see that the buffers are local and fold
	 * the calls away. */
	memset(opaque_ptr(big), c, sizeof(big));
	memcpy(opaque_ptr(other), opaque_ptr(big + 100), sizeof(other));
	sink = big[5] + other[7];
}

KT_NOINLINE int *alloc_ints(size_t n)
{
	int *a = malloc(n * sizeof(int));

	for (size_t i = 0; i < n; i++)
		a[i] = (int)i;
	return a;
}

KT_NOINLINE int read_int(const int *a, size_t i)
{
	return ((const volatile int *)a)[i];
}

int main(void)
{
	for (int i = 0; i < 3; i++) {
		int status;
		pid_t pid = vfork();

		if (pid == 0)
			deep((int)opaque_size(100));
		if (pid < 0 || waitpid(pid, &status, 0) != pid || status != 0)
			return 1;
		fill('a' + i);
	}
	KT_MARK("parent went on");
	// CHECK: {^}parent went on{$}
	int *a = alloc_ints(opaque_size(10));

	KT_ADDR("a", a);
	// CHECK: ==================================================================
	// CHECK-NEXT: BUG: KASAN: slab-out-of-bounds in read_int+0x
	// CHECK-NEXT: {^}Read of size 4 at addr {a+40} by task {comm}/{pid}{$}
	// CHECK: Call Trace:
	// CHECK-NEXT:  <TASK>
	// CHECK-NEXT: {^} read_int+0x{*}/0x{*} {*}rt-stack-vfork.c:
	// CHECK-NEXT: {^} main+0x
	// CHECK: Allocated by task {pid}:
	// CHECK-NEXT: {^} malloc+0x
	// CHECK-NEXT: {^} alloc_ints+0x{*} {*}rt-stack-vfork.c:
	// CHECK: The buggy address belongs to the object at {a}
	// CHECK-NEXT:  which belongs to the cache kmalloc-64 of size 64
	// CHECK-NEXT: The buggy address is located 0 bytes to the right of
	// CHECK-NEXT:  allocated 40-byte region [{a}, {a+40})
	// CHECK: {^}>{row:a+40}: 
	// CHECK-NEXT: {caret:a+40}
	int x = read_int(a, opaque_size(10));
	kt_barrier();
	free(a);
	return x == 12345;
}
