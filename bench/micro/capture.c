/*
 * capture.c - the cost of taking a stack of 10 and of 30 frames (recursion depth),
 * side by side: our runtime's capture (frame-pointer walk + depot save, what every
 * malloc and free does), glibc's backtrace(), and a bare frame-pointer walk in C.
 *
 *   kasan cc -O2 bench/micro/capture.c -o capture && ./capture
 *   (or: bash bench/depot/capture.sh, which builds it and runs it)
 *
 *   capture                  the table: re-runs itself once per variant and round
 *   capture KIND DEPTH N     one measurement; prints "ns_per_op=<x> frames=<n>"
 *     KIND: malloc     malloc(32)+free pairs (set KASAN_OPTIONS=kasan.stacktrace=off
 *                      for the baseline without capture)
 *           libc       tsearch()+tdelete() of one key: a malloc and a free made by
 *                      glibc code without frame pointers (the strdup/getline case);
 *                      with stacks off it is the baseline again
 *           backtrace  glibc backtrace() into a 64-entry buffer
 *           fpwalk     the frame-pointer chain walked in C into a 64-entry buffer
 *
 * The work runs DEPTH calls deep (each a real frame: the recursive call goes
 * through a volatile pointer, so it can be neither inlined nor turned into a loop),
 * below main and libc's start frames. Each malloc+free pair takes two stacks (the
 * alloc and the free track), so capture = (pair with stacks - pair without) / 2:
 * the walk plus the save of an existing stack into the depot.
 */
#include <execinfo.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#define MAX_FRAMES 64
#define ROUNDS 5

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static volatile long sink;
static int frames_seen;

/* The frame-pointer walk the runtime does, in C: no checks of its own reads. */
__attribute__((noinline, no_sanitize_address)) static int fp_walk(void **out, int max)
{
	void **fp = __builtin_frame_address(0);
	int n = 0;
	while (n < max && fp && ((unsigned long)fp & 7) == 0) {
		void *ret = fp[1];
		void **next = fp[0];
		if (!ret)
			break;
		out[n++] = ret;
		if (next <= fp)
			break;
		fp = next;
	}
	return n;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

__attribute__((noinline)) static void run(const char *kind, long n)
{
	void *buf[MAX_FRAMES];
	if (strcmp(kind, "malloc") == 0) {
		for (long i = 0; i < n; i++) {
			char *p = malloc(32);
			p[0] = (char)i;
			sink += p[0];
			free(p);
		}
		frames_seen = fp_walk(buf, MAX_FRAMES);
	} else if (strcmp(kind, "libc") == 0) {
		static int key = 1;
		void *root = NULL;
		for (long i = 0; i < n; i++) {
			tsearch(&key, &root, cmp_int);
			tdelete(&key, &root, cmp_int);
		}
		frames_seen = fp_walk(buf, MAX_FRAMES);
	} else if (strcmp(kind, "backtrace") == 0) {
		for (long i = 0; i < n; i++)
			sink += backtrace(buf, MAX_FRAMES);
		frames_seen = backtrace(buf, MAX_FRAMES);
	} else {
		for (long i = 0; i < n; i++)
			sink += fp_walk(buf, MAX_FRAMES);
		frames_seen = fp_walk(buf, MAX_FRAMES);
	}
}

static double timed;

static int recurse(int depth, const char *kind, long n);
static int (*volatile recurse_ptr)(int, const char *, long) = recurse;

__attribute__((noinline)) static int recurse(int depth, const char *kind, long n)
{
	if (depth <= 1) {
		run(kind, n / 16 + 1); /* warm-up: depot record, caches, libgcc_s loaded */
		double t0 = now_ns();
		run(kind, n);
		timed = (now_ns() - t0) / n;
		return 1;
	}
	int r = recurse_ptr(depth - 1, kind, n);
	sink += r;
	return r + 1;
}

/* Runs "self KIND DEPTH N" with KASAN_OPTIONS set to `options`; returns ns_per_op and
 * stores the frame count, or returns -1. */
static double child(const char *self, const char *kind, int depth, long n,
		    const char *options, int *frames)
{
	int fd[2];
	if (pipe(fd))
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		char d[16], c[32];
		snprintf(d, sizeof d, "%d", depth);
		snprintf(c, sizeof c, "%ld", n);
		dup2(fd[1], 1);
		close(fd[0]);
		if (options)
			setenv("KASAN_OPTIONS", options, 1);
		else
			unsetenv("KASAN_OPTIONS");
		execl(self, self, kind, d, c, (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	char out[256] = { 0 };
	size_t got = 0;
	ssize_t r;
	while (got < sizeof out - 1 && (r = read(fd[0], out + got, sizeof out - 1 - got)) > 0)
		got += (size_t)r;
	close(fd[0]);
	int status;
	waitpid(pid, &status, 0);
	double ns;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
	    sscanf(out, "ns_per_op=%lf frames=%d", &ns, frames) != 2) {
		fprintf(stderr, "capture: %s %d failed: %s\n", kind, depth, out);
		return -1;
	}
	return ns;
}

/* The best of ROUNDS runs of each of the four variants at `depth`, the variants
 * interleaved round by round so that drift of the machine hits them alike. */
static int best4(const char *self, int depth, const char *off, const char *on,
		 double ns[4], int *frames)
{
	const char *kinds[4] = { "malloc", "malloc", "backtrace", "fpwalk" };
	const char *opts[4] = { off, on, on, on };
	long counts[4] = { 1000000, 1000000, 200000, 4000000 };
	for (int v = 0; v < 4; v++)
		ns[v] = 1e300;
	for (int r = 0; r < ROUNDS; r++) {
		for (int v = 0; v < 4; v++) {
			int f = 0;
			double x = child(self, kinds[v], depth, counts[v], opts[v], &f);
			if (x < 0)
				return -1;
			if (x < ns[v])
				ns[v] = x;
			if (v == 1)
				*frames = f;
		}
	}
	return 0;
}

static int table(const char *self)
{
	const char *base = getenv("KASAN_OPTIONS");
	char off[512];
	snprintf(off, sizeof off, "%s%skasan.stacktrace=off", base ? base : "",
		 base && *base ? " " : "");
	printf("capture of a stack, ns (best of %d runs; frames = what a walk from the "
	       "innermost call sees)\n", ROUNDS);
	printf("%6s %7s %12s %12s %10s %11s %8s\n", "depth", "frames", "pair(off)",
	       "pair(on)", "capture", "backtrace()", "fp walk");
	double cap[2] = { 0, 0 }, bt[2] = { 0, 0 };
	int depths[2] = { 10, 30 };
	for (int i = 0; i < 2; i++) {
		int d = depths[i], frames = 0;
		double ns[4];
		if (best4(self, d, off, base, ns, &frames))
			return 1;
		double pair_off = ns[0], pair_on = ns[1], b = ns[2], w = ns[3];
		cap[i] = (pair_on - pair_off) / 2;
		bt[i] = b;
		printf("%6d %7d %12.1f %12.1f %10.1f %11.1f %8.1f\n", d, frames, pair_off,
		       pair_on, cap[i], b, w);
	}
	printf("capture = (pair(on) - pair(off)) / 2: walk + depot save of an existing "
	       "stack, per stack\n");
	printf("per extra frame (30 vs 10): capture %.2f ns, backtrace() %.2f ns; "
	       "backtrace()/capture at 30: %.1fx\n",
	       (cap[1] - cap[0]) / 20, (bt[1] - bt[0]) / 20, cap[1] > 0 ? bt[1] / cap[1] : 0);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 1)
		return table("/proc/self/exe");
	if (argc != 4) {
		fprintf(stderr, "usage: %s [malloc|backtrace|fpwalk DEPTH N]\n", argv[0]);
		return 2;
	}
	int depth = atoi(argv[2]);
	long n = atol(argv[3]);
	if (depth < 1 || depth > 200 || n < 1) {
		fprintf(stderr, "bad DEPTH or N\n");
		return 2;
	}
	recurse(depth, argv[1], n);
	printf("ns_per_op=%.2f frames=%d\n", timed, frames_seen);
	return 0;
}
