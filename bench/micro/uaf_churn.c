/*
 * uaf_churn.c - how much churn a use-after-free survives: a 64-byte object is freed,
 * then N MiB of malloc(64)/free pairs (its own size: the worst case, every freed slot
 * is a candidate for reuse) run over a live set of L MiB, then the freed object is read.
 * A churn allocation that gets the freed object's slot is kept (not freed): the slot then
 * belongs to a live object, which is how a late use-after-free goes unseen. Detected means the sanitizer
 * reported it (the child ends with a non-zero status: kasan with kasan.fault=panic,
 * libasan by default). A benchmark of the quarantine policy, not a test.
 *
 *   kasan cc -O1 bench/micro/uaf_churn.c -o uaf_churn
 *   ./uaf_churn [L]                       table: N = 1, 2, 4 ... 512 MiB, policies:
 *                                         KASAN_OPTIONS as inherited ("new", the default)
 *                                         and with kasan.quarantine_live_percent=0 ("old")
 *   ./uaf_churn child L N                 one run
 *   gcc -fsanitize=address -O1 bench/micro/uaf_churn.c -o uaf_asan && ./uaf_asan [L]
 *                                         (the libasan row; its options do not apply)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <fcntl.h>

static volatile char sink;

static void *(*volatile alloc)(size_t) = malloc;

static int child(long live_mb, long churn_mb)
{
	/* The live set: 4 KiB blocks, kept to the end. */
	long nlive = live_mb * 256;
	char **live = calloc(nlive ? nlive : 1, sizeof *live);
	for (long i = 0; i < nlive; i++) {
		live[i] = alloc(4096);
		live[i][0] = 1;
	}
	char *victim = alloc(64);
	memset(victim, 7, 64);
	free(victim);
	size_t done = 0, goal = (size_t)churn_mb << 20;
	for (unsigned i = 0; done < goal; i++) {
		size_t n = 64;
		char *p = alloc(n);
		p[0] = (char)i;
		sink += p[0];
		if (p == victim)
			continue; /* the slot is live again: the use below goes unseen */
		free(p);
		done += n;
	}
	sink += ((volatile char *)victim)[8];
	for (long i = 0; i < nlive; i++)
		free(live[i]);
	free(live);
	return 0;
}

/* 1 when the use-after-free was reported (the child failed), 0 when not. */
static int run(const char *self, long live_mb, long churn_mb, const char *extra)
{
	pid_t pid = fork();
	if (pid == 0) {
		char l[32], n[32], opts[512];
		const char *base = getenv("KASAN_OPTIONS");
		snprintf(opts, sizeof opts, "%s%skasan.fault=panic%s%s", base ? base : "",
			 base && *base ? " " : "", extra ? " " : "", extra ? extra : "");
		setenv("KASAN_OPTIONS", opts, 1);
		snprintf(l, sizeof l, "%ld", live_mb);
		snprintf(n, sizeof n, "%ld", churn_mb);
		int devnull = open("/dev/null", O_WRONLY);
		dup2(devnull, 2);
		execl(self, self, "child", l, n, (char *)NULL);
		_exit(127);
	}
	int status;
	waitpid(pid, &status, 0);
	return !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "child") == 0)
		return child(atol(argv[2]), atol(argv[3]));
	long live_mb = argc > 1 ? atol(argv[1]) : 0;
	const char *self = "/proc/self/exe";
	const char *names[2] = { "new (default)", "old (live_percent=0)" };
	const char *extra[2] = { NULL, "kasan.quarantine_live_percent=0" };
	printf("use-after-free of a 64-byte object after N MiB of churn, live set %ld MiB\n",
	       live_mb);
	printf("%-22s", "policy \\ N MiB");
	for (long n = 1; n <= 512; n *= 2)
		printf("%5ld", n);
	printf("\n");
	for (int p = 0; p < 2; p++) {
		printf("%-22s", names[p]);
		long last = 0;
		for (long n = 1; n <= 512; n *= 2) {
			int d = run(self, live_mb, n, extra[p]);
			printf("%5s", d ? "yes" : "no");
			fflush(stdout);
			if (d)
				last = n;
		}
		printf("   largest detected: %ld MiB\n", last);
	}
	return 0;
}
