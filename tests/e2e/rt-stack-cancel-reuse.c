/*
 * A thread cancelled deep inside instrumented frames never runs their epilogues, so
 * its stack's shadow keeps their redzones; glibc then gives its cached stack to the
 * next thread of the same size. Threads started through the runtime's pthread_create
 * begin with their whole stack's shadow cleared (and it is cleared again when they
 * exit), so the new threads' memset/memcpy on buffers of uninstrumented frames (as
 * libc's own frames are) stay silent.
 */
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "e2e.h"

#ifdef __clang__
#define NO_KASAN __attribute__((noinline, no_sanitize("kernel-address")))
#else
#define NO_KASAN __attribute__((noinline, noclone, no_sanitize_address))
#endif

static char *volatile cancelled_frame;
static volatile int sink;

KT_NOINLINE int deep(int n)
{
	volatile char buf[100];

	buf[n % 100] = (char)n;
	if (n == 0) {
		cancelled_frame = (char *)buf;
		for (;;) {
			pthread_testcancel();
			usleep(1000);
		}
	}
	int r = deep(n - 1);
	return r + buf[(n * 3) % 100];
}

static void *doomed(void *arg)
{
	return (void *)(long)deep((int)(long)arg);
}

/* Not instrumented: its buffer's shadow is whatever the stack's shadow holds. */
NO_KASAN static long fill(int c)
{
	char big[64 << 10];
	char other[4096];

	/* opaque_ptr: the compiler must not see that the buffers are local and fold
	 * the calls away. */
	memset(opaque_ptr(big), c, sizeof(big));
	memcpy(opaque_ptr(other), opaque_ptr(big + 100), sizeof(other));
	memmove(opaque_ptr(big + 1), opaque_ptr(big), 1000);
	sink = big[5] + other[7];
	return big < cancelled_frame && cancelled_frame < big + sizeof(big);
}

static void *reuser(void *arg)
{
	return (void *)fill((int)(long)arg);
}

int main(void)
{
	pthread_t t;
	long reused = 0;

	for (int round = 0; round < 3; round++) {
		void *ret;

		pthread_create(&t, NULL, doomed, opaque_ptr((void *)100));
		while (!cancelled_frame)
			usleep(1000);
		pthread_cancel(t);
		pthread_join(t, &ret);
		if (ret != PTHREAD_CANCELED)
			return 1;
		for (int i = 0; i < 2; i++) {
			pthread_create(&t, NULL, reuser, opaque_ptr((void *)(long)('a' + i)));
			pthread_join(t, &ret);
			reused += (long)ret;
		}
		cancelled_frame = NULL;
	}
	KT_NUM("reused", reused > 0);
	return 0;
}
