/*
 * bench/vmalloc/test_vmalloc.c - the workloads of Linux's lib/test_vmalloc.c (the
 * vmalloc stress and performance module), rewritten for the kasan runtime's vmalloc
 * API (vmalloc, vzalloc, __vmalloc_node, vfree, vm_map_ram, and call_rcu standing in
 * for kvfree_rcu).
 *
 *   test_vmalloc [THREADS] [SCALE_PERCENT] [RUN_TEST_MASK]
 *
 * THREADS workers (default 1) each run every test in the same fixed order (Linux's
 * sequential_test_order=1 with nr_threads=THREADS). Unlike Linux, the workers meet at
 * a barrier before each test, so each test runs on all threads at once and its time
 * is that test's alone. SCALE_PERCENT (default 100) scales every loop count.
 * RUN_TEST_MASK (default all) is Linux's run_test_mask: bit i runs the i-th test of
 * Linux's list (fix_size_alloc_test is bit 0, pcpu_alloc_test bit 7, vm_map_ram_test
 * bit 10; the extra vzalloc_5_pages_test is bit 11); tests left out print nothing.
 *
 * Output, one line per test:
 *   test NAME loops=N usec=MAX thread_usec=T0[,T1...]
 * where usec is the maximum over the threads of each thread's own time for the test
 * (setup of the test's long-lived areas included, as in Linux), and one line
 *   skip NAME: REASON
 * for each of Linux's tests that needs an API the runtime does not have. Last:
 *   total usec=SUM_OF_MAX reports=N maxrss_kb=PEAK_RSS
 * `test_vmalloc 0` only does one vmalloc/vfree and prints "probe ok" (bench/vmalloc/run
 * uses it to see whether the runtime accepts a KASAN_OPTIONS setting).
 *
 * Every area obtained is touched at its first and last byte. Random numbers come from
 * a per-thread xorshift with a fixed seed, so every run does the same work.
 */
#define _GNU_SOURCE
#include <kasan.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#ifndef PAGE_SIZE
#define PAGE_SIZE 4096UL
#endif
#define MAX_THREADS 64

static long scale_pct = 100;
static unsigned long run_test_mask = ~0UL;
static int nr_threads = 1;
static pthread_barrier_t barrier;

struct rng { uint64_t s; };

static uint32_t rnd32(struct rng *r)
{
	uint64_t x = r->s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	r->s = x;
	return (uint32_t)(x >> 32);
}

/* Uniform in lo..hi inclusive (slightly biased; irrelevant here). */
static unsigned rnd_incl(struct rng *r, unsigned lo, unsigned hi)
{
	return lo + rnd32(r) % (hi - lo + 1);
}

static long loops_of(long base)
{
	long n = base * scale_pct / 100;
	return n > 0 ? n : 1;
}

static void die(const char *what)
{
	fprintf(stderr, "test_vmalloc: %s failed\n", what);
	exit(1);
}

/* Writes the first and last byte of an area of `size` bytes. */
static inline void touch(void *p, unsigned long size, unsigned char v)
{
	volatile unsigned char *b = p;
	b[0] = v;
	b[size - 1] = v;
}

/* The compiler must not drop a vmalloc/vfree pair whose memory is only written. */
static inline void *checked(void *p, const char *what)
{
	if (!p)
		die(what);
	__asm__ volatile("" : : "r"(p) : "memory");
	return p;
}

/* Linux: vmalloc(nr_pages * PAGE_SIZE) (nr_pages=1 by default), write, vfree. */
static int fix_size_alloc_test(struct rng *r, long loops)
{
	(void)r;
	for (long i = 0; i < loops; i++) {
		void *p = checked(vmalloc(PAGE_SIZE), "vmalloc");
		touch(p, PAGE_SIZE, 0);
		vfree(p);
	}
	return 0;
}

static int fls_int(int x)
{
	return x ? 32 - __builtin_clz((unsigned)x) : 0;
}

/*
 * Linux: fls(nr_cpus) * 32 MiB / PAGE_SIZE pairs of 1-page areas, one of each pair
 * freed again (holes of exactly one page between live areas), then a loop of 1-page
 * vmalloc/write/vfree that should fit those holes.
 */
static int full_fit_alloc_test(struct rng *r, long loops)
{
	(void)r;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int junk_length = fls_int(cpus > 0 ? (int)cpus : 1) * (int)(32UL * 1024 * 1024 / PAGE_SIZE);
	unsigned long tsize = sizeof(void *) * junk_length;
	void **ptr = checked(vmalloc(tsize), "vmalloc");
	void **junk = checked(vmalloc(tsize), "vmalloc");

	for (int i = 0; i < junk_length; i++) {
		ptr[i] = checked(vmalloc(PAGE_SIZE), "vmalloc");
		junk[i] = checked(vmalloc(PAGE_SIZE), "vmalloc");
		touch(ptr[i], PAGE_SIZE, 1);
		touch(junk[i], PAGE_SIZE, 1);
	}
	for (int i = 0; i < junk_length; i++)
		vfree(junk[i]);

	for (long i = 0; i < loops; i++) {
		void *p = checked(vmalloc(PAGE_SIZE), "vmalloc");
		touch(p, PAGE_SIZE, 1);
		vfree(p);
	}

	for (int i = 0; i < junk_length; i++)
		vfree(ptr[i]);
	vfree(ptr);
	vfree(junk);
	return 0;
}

/*
 * Linux: 15000 1-page areas kept allocated (a long list of busy areas), and a loop
 * of one 100-page and one 1-page vmalloc, both written, both freed.
 */
static int long_busy_list_alloc_test(struct rng *r, long loops)
{
	(void)r;
	enum { BUSY = 15000 };
	void **ptr = checked(vmalloc(sizeof(void *) * BUSY), "vmalloc");

	for (int i = 0; i < BUSY; i++) {
		ptr[i] = checked(vmalloc(PAGE_SIZE), "vmalloc");
		touch(ptr[i], PAGE_SIZE, 1);
	}

	for (long i = 0; i < loops; i++) {
		void *p1 = checked(vmalloc(100 * PAGE_SIZE), "vmalloc");
		void *p2 = checked(vmalloc(PAGE_SIZE), "vmalloc");
		touch(p1, 100 * PAGE_SIZE, 0);
		touch(p2, PAGE_SIZE, 1);
		vfree(p1);
		vfree(p2);
	}

	for (int i = 0; i < BUSY; i++)
		vfree(ptr[i]);
	vfree(ptr);
	return 0;
}

/* Linux: vmalloc(n pages), n uniform in 1..100, write, vfree. */
static int random_size_alloc_test(struct rng *r, long loops)
{
	for (long i = 0; i < loops; i++) {
		unsigned long size = rnd_incl(r, 1, 100) * PAGE_SIZE;
		void *p = checked(vmalloc(size), "vmalloc");
		touch(p, size, 1);
		vfree(p);
	}
	return 0;
}

#define GFP_KERNEL_ZERO (0xcc0u | 0x100u) /* GFP_KERNEL | __GFP_ZERO */

/*
 * Linux: __vmalloc_node(5 pages, THREAD_ALIGN, GFP_KERNEL | __GFP_ZERO), write,
 * vfree. THREAD_ALIGN is x86-64's THREAD_SIZE, 32 KiB with KASAN.
 */
static int fix_align_alloc_test(struct rng *r, long loops)
{
	(void)r;
	for (long i = 0; i < loops; i++) {
		void *p = checked(__vmalloc_node(5 * PAGE_SIZE, 32768, GFP_KERNEL_ZERO, -1, 0),
				  "__vmalloc_node");
		touch(p, 5 * PAGE_SIZE, 1);
		vfree(p);
	}
	return 0;
}

/* Linux: size 1..10 pages, align 1 << (rnd % 23) (up to 1024 pages), zeroed. */
static int random_size_align_alloc_test(struct rng *r, long loops)
{
	for (long i = 0; i < loops; i++) {
		unsigned long size = rnd_incl(r, 1, 10) * PAGE_SIZE;
		unsigned long align = 1UL << rnd_incl(r, 0, 22);
		void *p = checked(__vmalloc_node(size, align, GFP_KERNEL_ZERO, -1, 0),
				  "__vmalloc_node");
		touch(p, size, 1);
		vfree(p);
	}
	return 0;
}

/*
 * Linux: one page at every alignment 1 << i for i < BITS_PER_LONG, stopping at the
 * first that fails (the runtime refuses alignments above 1 GiB), each loop.
 */
static int align_shift_alloc_test(struct rng *r, long loops)
{
	(void)r;
	for (long n = 0; n < loops; n++) {
		for (int i = 0; i < 64; i++) {
			void *p = __vmalloc_node(PAGE_SIZE, 1UL << i, GFP_KERNEL_ZERO, -1, 0);
			if (!p)
				break;
			vfree(p);
		}
	}
	return 0;
}

/*
 * Not in Linux's list: fix_align_alloc_test's size and zeroing without the
 * alignment: vzalloc(5 pages), write, vfree.
 */
static int vzalloc_5_pages_test(struct rng *r, long loops)
{
	(void)r;
	for (long i = 0; i < loops; i++) {
		void *p = checked(vzalloc(5 * PAGE_SIZE), "vzalloc");
		touch(p, 5 * PAGE_SIZE, 1);
		vfree(p);
	}
	return 0;
}

/*
 * Linux: vmalloc(1 page), write, kvfree_rcu(p, rcu): the area is freed after a grace
 * period. Here kvfree_rcu's two-argument form is what it means: call_rcu on the
 * rcu_head inside the object, whose callback vfree()s it. Linux's test does not wait
 * for the frees; this one ends with rcu_barrier(), so the frees are in its time.
 */
struct test_kvfree_rcu {
	struct rcu_head rcu;
	unsigned char array[20];
};

static void kvfree_rcu_cb(struct rcu_head *head)
{
	vfree(head); /* rcu is the first member */
}

static int kvfree_rcu_2_arg_vmalloc_test(struct rng *r, long loops)
{
	(void)r;
	for (long i = 0; i < loops; i++) {
		struct test_kvfree_rcu *p = checked(vmalloc(PAGE_SIZE), "vmalloc");
		p->array[0] = 'a';
		call_rcu(&p->rcu, kvfree_rcu_cb);
	}
	rcu_barrier();
	return 0;
}

/*
 * Linux: vmalloc(1 page), write, kvfree_rcu_mightsleep(p): no rcu_head in the object;
 * Linux collects the pointers in page-sized blocks freed together after a grace
 * period. Here: blocks of 64 pointers (kmalloc'ed), each handed to call_rcu when full;
 * the callback vfree()s every pointer, then the block. Ends with rcu_barrier().
 */
#define KVFREE_BATCH 64
struct kvfree_block {
	struct rcu_head rcu;
	int nr;
	void *ptrs[KVFREE_BATCH];
};

static void kvfree_block_cb(struct rcu_head *head)
{
	struct kvfree_block *b = (struct kvfree_block *)head;
	for (int i = 0; i < b->nr; i++)
		vfree(b->ptrs[i]);
	kfree(b);
}

static int kvfree_rcu_1_arg_vmalloc_test(struct rng *r, long loops)
{
	(void)r;
	struct kvfree_block *b = NULL;
	for (long i = 0; i < loops; i++) {
		unsigned char *p = checked(vmalloc(PAGE_SIZE), "vmalloc");
		p[0] = 'a';
		if (!b) {
			b = checked(kmalloc(sizeof(*b), GFP_KERNEL), "kmalloc");
			b->nr = 0;
		}
		b->ptrs[b->nr++] = p;
		if (b->nr == KVFREE_BATCH) {
			call_rcu(&b->rcu, kvfree_block_cb);
			b = NULL;
		}
	}
	if (b)
		call_rcu(&b->rcu, kvfree_block_cb);
	rcu_barrier();
	return 0;
}

/*
 * Run in a sw-tags build only (generic mode's heap is private memory, which cannot be
 * mapped twice).
 * Linux: one page (nr_pages=0 gives map_nr_pages=1) from the page allocator, then
 * vm_map_ram(pages, 1), write, vm_unmap_ram each loop; the page is freed at the end.
 */
__attribute__((unused)) static int vm_map_ram_test(struct rng *r, long loops)
{
	(void)r;
	struct page *pg = checked(alloc_pages(GFP_KERNEL, 0), "alloc_pages");
	struct page *pages[1] = { pg };
	for (long i = 0; i < loops; i++) {
		unsigned char *v = checked(vm_map_ram(pages, 1, -1), "vm_map_ram");
		*v = 'a';
		vm_unmap_ram(v, 1);
	}
	__free_pages(pg, 0);
	return 0;
}

/* A sw-tags build (kasan cc --mode=sw-tags: clang's kernel-hwaddress). */
#if defined(__has_feature)
#if __has_feature(hwaddress_sanitizer)
#define SW_TAGS_BUILD 1
#endif
#endif
#ifndef SW_TAGS_BUILD
#define SW_TAGS_BUILD 0
#endif

struct test_case {
	const char *name;
	int (*fn)(struct rng *, long);
	long base_loops;       /* Linux: test_loop_count = 1000000 for every loop */
	const char *skip;      /* why it cannot run here, or NULL */
};

/*
 * Loop counts are scaled down from Linux's 1000000 so that each test takes ~0.2-1 s
 * on one thread under the runtime: a 1-page vmalloc/vfree pair costs ~15 us here
 * (pages of their own with a guard page, system calls, shadow writes), and the setup
 * of full_fit_alloc_test (32768 areas with 2 CPUs) alone takes ~0.7 s.
 */
static const struct test_case tests[] = {
	{ "fix_size_alloc_test", fix_size_alloc_test, 20000, NULL },
	{ "full_fit_alloc_test", full_fit_alloc_test, 20000, NULL },
	{ "long_busy_list_alloc_test", long_busy_list_alloc_test, 5000, NULL },
	{ "random_size_alloc_test", random_size_alloc_test, 10000, NULL },
	{ "fix_align_alloc_test", fix_align_alloc_test, 10000, NULL },
	{ "random_size_align_alloc_test", random_size_align_alloc_test, 10000, NULL },
	{ "align_shift_alloc_test", align_shift_alloc_test, 100, NULL },
	{ "pcpu_alloc_test", NULL, 0, "no per-CPU allocator in kasan.h (__alloc_percpu/free_percpu)" },
	{ "kvfree_rcu_1_arg_vmalloc_test", kvfree_rcu_1_arg_vmalloc_test, 10000, NULL },
	{ "kvfree_rcu_2_arg_vmalloc_test", kvfree_rcu_2_arg_vmalloc_test, 10000, NULL },
#if SW_TAGS_BUILD
	{ "vm_map_ram_test", vm_map_ram_test, 2000, NULL },
#else
	{ "vm_map_ram_test", NULL, 0,
	  "vm_map_ram maps pages a second time, which generic mode's private heap cannot (sw-tags only)" },
#endif
	{ "vzalloc_5_pages_test", vzalloc_5_pages_test, 10000, NULL },
};
#define NR_TESTS (sizeof(tests) / sizeof(tests[0]))

static long usec[MAX_THREADS][NR_TESTS];

static long now_usec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000L + ts.tv_nsec / 1000;
}

static void *worker(void *arg)
{
	int id = (int)(intptr_t)arg;
	struct rng r = { 0x9e3779b97f4a7c15ULL ^ ((uint64_t)(id + 1) * 0x2545f4914f6cdd1dULL) };

	for (size_t t = 0; t < NR_TESTS; t++) {
		if (!tests[t].fn || !(run_test_mask & (1UL << t)))
			continue;
		pthread_barrier_wait(&barrier);
		long t0 = now_usec();
		if (tests[t].fn(&r, loops_of(tests[t].base_loops)))
			die(tests[t].name);
		usec[id][t] = now_usec() - t0;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		nr_threads = atoi(argv[1]);
	if (argc > 2)
		scale_pct = atol(argv[2]);
	if (argc > 3)
		run_test_mask = strtoul(argv[3], NULL, 0);
	if (argc > 1 && nr_threads == 0 && strcmp(argv[1], "0") == 0) {
		vfree(checked(vmalloc(PAGE_SIZE), "vmalloc"));
		printf("probe ok\n");
		return 0;
	}
	if (nr_threads < 1 || nr_threads > MAX_THREADS || scale_pct < 1) {
		fprintf(stderr, "usage: %s [THREADS 1..%d] [SCALE_PERCENT] [RUN_TEST_MASK]\n", argv[0],
			MAX_THREADS);
		return 2;
	}

	pthread_barrier_init(&barrier, NULL, (unsigned)nr_threads);
	pthread_t th[MAX_THREADS];
	for (int i = 0; i < nr_threads; i++)
		if (pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i))
			die("pthread_create");
	for (int i = 0; i < nr_threads; i++)
		pthread_join(th[i], NULL);

	long total = 0;
	for (size_t t = 0; t < NR_TESTS; t++) {
		if (!(run_test_mask & (1UL << t)))
			continue;
		if (!tests[t].fn) {
			printf("skip %s: %s\n", tests[t].name, tests[t].skip);
			continue;
		}
		long max = 0;
		char per[MAX_THREADS * 16] = "";
		size_t off = 0;
		for (int i = 0; i < nr_threads; i++) {
			if (usec[i][t] > max)
				max = usec[i][t];
			off += (size_t)snprintf(per + off, sizeof(per) - off, "%s%ld", i ? "," : "", usec[i][t]);
		}
		total += max;
		printf("test %s loops=%ld usec=%ld thread_usec=%s\n", tests[t].name,
		       loops_of(tests[t].base_loops), max, per);
	}
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("total usec=%ld reports=%d maxrss_kb=%ld\n", total, kasan_reports_count(), ru.ru_maxrss);
	return 0;
}
