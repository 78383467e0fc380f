/*
 * Unbounded recursion on a thread with a 256 KiB stack: the thread got an alternate
 * signal stack when it started (pthread_create is interposed), so the overflow is
 * reported as on the main thread ("stack-overflow", the thread's task id), and the
 * process dies of SIGSEGV.
 */
// EXIT: SIGSEGV
#include <pthread.h>

#include "e2e.h"

KT_NOINLINE int recurse(int n)
{
	volatile char buf[200];

	buf[n % 200] = (char)n;
	int r = recurse(n + 1);
	return r + buf[(n * 7) % 200];
}

static void *thread(void *arg)
{
	return (void *)(long)recurse((int)(long)arg);
}

int main(void)
{
	pthread_attr_t attr;
	pthread_t t;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 << 10);
	// CHECK: {^}kasan: stack-overflow on address {*} (pc {*} recurse+0x{*} access) by task {comm}/{*}{$}
	// CHECK-NEXT: {^}Call Trace:{$}
	// CHECK-NEXT: {^} <TASK>{$}
	// CHECK-NEXT: {^} recurse+0x{*} {*}rt-stack-overflow-thread.c:
	// CHECK-NEXT: {^} recurse+0x{*} {*}rt-stack-overflow-thread.c:
	// CHECK-NOT: by task {comm}/{pid}
	// REPORTS: 0
	pthread_create(&t, &attr, thread, opaque_ptr(NULL));
	pthread_join(t, NULL);
	KT_MARK("survived the overflow");
	// CHECK-NOT: survived the overflow
	return 0;
}
