// Prototype for issue 9: a tagged heap made of one memfd mapped at N aliases (the tag in
// address bits 40..43, as the design proposes), and a fork that keeps parent and child
// heaps apart although every alias is MAP_SHARED.
//
// Fork protocol (what `fork_isolated` does):
//   parent: (allocator locks would be taken here)  -> stop the other threads (signal,
//           each parks in the handler and acknowledges) -> real fork -> wait on a pipe
//           until the child says "remapped" (EOF = child died: go on) -> resume threads.
//   child:  new memfd of the same size -> copy the data extents of the old one
//           (SEEK_DATA/SEEK_HOLE, copy_file_range) -> mmap the new memfd MAP_FIXED over
//           every alias -> dup2 onto the old descriptor number -> write one byte.
//
// Build: cc -O2 -pthread fork_alias.c -o fork_alias
// Run:   ./fork_alias test [aliases]        isolation tests (exit 0 = all pass)
//        ./fork_alias bench [aliases]       costs (fork with copy vs plain fork, touch)
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TAG_SHIFT 40
#define ALIAS_SIZE (1UL << TAG_SHIFT)           // 1 TiB of address space per alias
#define HEAP_SIZE (1UL << 30)                   // the memfd's (sparse) size in this test
#define MAX_ALIASES 16

static int naliases = 16;
static uintptr_t region;                         // aliases at region + t * ALIAS_SIZE
static int heap_fd = -1;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void die(const char *what) {
    perror(what);
    exit(2);
}

static void *alias(uintptr_t off, int t) { return (void *)(region + (uintptr_t)t * ALIAS_SIZE + off); }

static void map_aliases(int fd) {
    for (int t = 0; t < naliases; t++) {
        void *p = mmap(alias(0, t), HEAP_SIZE, PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_FIXED | MAP_NORESERVE, fd, 0);
        if (p == MAP_FAILED) die("mmap alias");
    }
}

static void heap_init(void) {
    // Reserve 16 aliases' worth of address space aligned to 2^44, so that bits 40..43
    // of an address in the region are the alias index.
    size_t span = (size_t)MAX_ALIASES * ALIAS_SIZE;
    void *r = mmap(NULL, 2 * span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (r == MAP_FAILED) die("reserve");
    uintptr_t base = ((uintptr_t)r + span - 1) & ~(span - 1);
    munmap(r, base - (uintptr_t)r);
    munmap((void *)(base + span), (uintptr_t)r + 2 * span - (base + span));
    region = base;
    heap_fd = memfd_create("kasan-heap", MFD_CLOEXEC);
    if (heap_fd < 0) die("memfd_create");
    if (ftruncate(heap_fd, HEAP_SIZE)) die("ftruncate");
    map_aliases(heap_fd);
}

// ---- stopping the other threads of the parent while the child copies ----
static atomic_int parked, resume;
static void park(int sig) {
    (void)sig;
    int e = errno;
    atomic_fetch_add(&parked, 1);
    while (!atomic_load(&resume))
        syscall(SYS_futex, &resume, 0 /* FUTEX_WAIT */, 0, NULL, NULL, 0);
    atomic_fetch_sub(&parked, 1);
    errno = e;
}
static pid_t others[64];
static volatile int nothers;

static void stop_others(void) {
    atomic_store(&resume, 0);
    for (int i = 0; i < nothers; i++) syscall(SYS_tgkill, getpid(), others[i], SIGUSR2);
    double deadline = now() + 0.1;
    while (atomic_load(&parked) < nothers && now() < deadline) sched_yield();
}
static void resume_others(void) {
    atomic_store(&resume, 1);
    syscall(SYS_futex, &resume, 1 /* FUTEX_WAKE */, 1 << 30, NULL, NULL, 0);
    while (atomic_load(&parked) > 0) sched_yield();
}

// ---- the child's rebuild ----
static size_t copied_bytes;
static int copy_memcpy;   // COPY=memcpy: copy through a mapping of the new memfd
static int child_rebuild(void) {
    int nfd = memfd_create("kasan-heap", MFD_CLOEXEC);
    if (nfd < 0 || ftruncate(nfd, HEAP_SIZE)) return -1;
    off_t off = 0;
    copied_bytes = 0;
    for (;;) {
        off_t data = lseek(heap_fd, off, SEEK_DATA);
        if (data < 0) break;                          // ENXIO: no more data
        off_t hole = lseek(heap_fd, data, SEEK_HOLE);
        loff_t in = data, out = data;
        size_t left = hole - data;
        if (copy_memcpy && left) {
            void *dst = mmap(NULL, left, PROT_READ | PROT_WRITE, MAP_SHARED, nfd, data);
            if (dst == MAP_FAILED) return -1;
            memcpy(dst, alias(data, 0), left);
            munmap(dst, left);
            copied_bytes += left;
            left = 0;
        }
        while (left) {
            ssize_t n = copy_file_range(heap_fd, &in, nfd, &out, left, 0);
            if (n <= 0) return -1;
            left -= n;
            copied_bytes += n;
        }
        off = hole;
    }
    map_aliases(nfd);                                 // MAP_FIXED replaces the shared ones
    if (dup3(nfd, heap_fd, O_CLOEXEC) < 0) return -1; // keep the descriptor number
    close(nfd);
    return 0;
}

static pid_t fork_isolated(void) {
    int p[2];
    if (pipe2(p, O_CLOEXEC)) return -1;
    stop_others();
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        if (child_rebuild()) _exit(111);   // a child that shares the heap must not run
        (void)!write(p[1], "k", 1);
        close(p[1]);
        nothers = 0;                       // threads do not survive fork
        return 0;
    }
    close(p[1]);
    if (pid > 0) {
        char c;
        while (read(p[0], &c, 1) < 0 && errno == EINTR) {
        }
    }
    close(p[0]);
    resume_others();
    return pid;
}

// ---- tests ----
static int failures;
#define EXPECT(c, ...) do { if (!(c)) { failures++; fprintf(stderr, "FAIL: " __VA_ARGS__); fputc('\n', stderr); } } while (0)

static atomic_int writer_stop;
static volatile uint64_t *counter;   // in the heap
static void *writer(void *arg) {
    (void)arg;
    others[nothers++] = gettid();
    while (!atomic_load(&writer_stop)) (*counter)++;
    return NULL;
}

static int test(void) {
    uint64_t *a0 = alias(4096, 0), *a3 = alias(4096, 3 % naliases);
    *a0 = 0x1111;
    EXPECT(*a3 == 0x1111, "aliases are not coherent before fork");

    // A writer thread in the parent keeps writing the heap during the fork.
    counter = alias(8192, 1 % naliases);
    *counter = 0;
    pthread_t th;
    pthread_create(&th, NULL, writer, NULL);
    while (nothers == 0 || *counter < 1000) sched_yield();

    int sync_pc[2], sync_cp[2];
    if (pipe(sync_pc) || pipe(sync_cp)) die("pipe");
    pid_t pid = fork_isolated();
    if (pid < 0) die("fork");
    if (pid == 0) {
        int bad = 0;
        // Pre-fork contents are there, through every alias.
        for (int t = 0; t < naliases; t++) bad |= *(uint64_t *)alias(4096, t) != 0x1111;
        uint64_t snap = *counter;
        // Write on the child's side, then let the parent write, then compare.
        *(uint64_t *)alias(4096, 2 % naliases) = 0xC41D;
        char c = 'c';
        (void)!write(sync_cp[1], &c, 1);
        (void)!read(sync_pc[0], &c, 1);     // the parent has written 0xAAAA by now
        for (int t = 0; t < naliases; t++) bad |= (*(uint64_t *)alias(4096, t) != 0xC41D) << 1;
        bad |= (*counter != snap) << 2;      // the parent's writer thread is not seen
        _exit(bad);
    }
    char c;
    (void)!read(sync_cp[0], &c, 1);          // the child has written 0xC41D
    EXPECT(*a0 == 0x1111, "child's write leaked into the parent (%#lx)", (unsigned long)*a0);
    *(uint64_t *)alias(4096, 5 % naliases) = 0xAAAA;
    (void)!write(sync_pc[1], &c, 1);
    int st;
    waitpid(pid, &st, 0);
    EXPECT(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child saw the parent's memory (status %#x)", st);
    for (int t = 0; t < naliases; t++)
        EXPECT(*(uint64_t *)alias(4096, t) == 0xAAAA, "parent alias %d incoherent after fork", t);
    uint64_t before = *counter;
    double until = now() + 2.0;
    while (*counter == before && now() < until) usleep(1000);
    EXPECT(*counter != before, "the writer thread was not resumed");
    atomic_store(&writer_stop, 1);
    pthread_join(th, NULL);
    nothers = 0;

    // Nested: a child forks again.
    pid = fork_isolated();
    if (pid == 0) {
        *a0 = 0x2222;
        pid_t g = fork_isolated();
        if (g == 0) { *a0 = 0x3333; _exit(0); }
        waitpid(g, NULL, 0);
        _exit(*a0 == 0x2222 ? 0 : 1);
    }
    waitpid(pid, &st, 0);
    EXPECT(WIFEXITED(st) && WEXITSTATUS(st) == 0, "grandchild's write leaked into child");
    EXPECT(*a0 == 0xAAAA, "child's write leaked into parent (nested)");

    // Control: plain fork shares the heap (the bug the protocol fixes).
    pid = fork();
    if (pid == 0) { *a0 = 0xBAD; _exit(0); }
    waitpid(pid, NULL, 0);
    printf("control: with plain fork the parent reads %#lx after the child wrote 0xbad (%s)\n",
           (unsigned long)*a0, *a0 == 0xBAD ? "shared, as expected" : "not shared?");
    printf("%s (%d aliases)\n", failures ? "FAILED" : "all isolation checks passed", naliases);
    return failures != 0;
}

static long smaps_kb(const char *key) {
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    char line[256];
    long v = -1;
    size_t k = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, k)) v = atol(line + k);
    if (f) fclose(f);
    return v;
}

static int bench(void) {
    printf("aliases: %d, alias size 2^%d, page 4 KiB\n", naliases, TAG_SHIFT);
    // Touch cost: write 64 MiB page by page through one alias, then through 16 (each page
    // through a different alias, as objects with different tags in one page would).
    size_t mb = 64, n = mb << 20;
    double t0 = now();
    for (size_t o = 0; o < n; o += 4096) *(volatile char *)alias(o, 0) = 1;
    double t1 = now();
    for (size_t o = 0; o < n; o += 4096)
        for (int t = 1; t < naliases; t++) *(volatile char *)alias(o, t) = 1;
    double t2 = now();
    printf("first touch, 64 MiB via 1 alias: %.1f ms (%.2f ms/MiB)\n", (t1 - t0) * 1e3, (t1 - t0) * 1e3 / mb);
    printf("same pages via the %d other aliases: %.1f ms (%.2f ms/MiB/alias)\n", naliases - 1,
           (t2 - t1) * 1e3, (t2 - t1) * 1e3 / mb / (naliases - 1));
    // The same, with MADV_POPULATE_WRITE on a fresh 64 MiB through every alias at once.
    if (fallocate(heap_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, n, n)) die("punch");
    double t3 = now();
    for (int t = 0; t < naliases; t++)
        if (madvise(alias(n, t), n, 23 /* MADV_POPULATE_WRITE */)) perror("populate");
    double t4 = now();
    printf("MADV_POPULATE_WRITE of 64 MiB in all %d aliases: %.1f ms (%.2f ms/MiB/alias)\n", naliases,
           (t4 - t3) * 1e3, (t4 - t3) * 1e3 / mb / naliases);
    if (fallocate(heap_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, n, n)) die("punch");
    printf("rss accounting with 64 MiB mapped in %d aliases: Rss %ld kB, Pss %ld kB, Pss_Shmem %ld kB\n",
           naliases, smaps_kb("Rss:"), smaps_kb("Pss:"), smaps_kb("Pss_Shmem:"));
    if (fallocate(heap_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, HEAP_SIZE)) die("punch");

    size_t sizes[] = {0, 1, 16, 64, 256};
    for (unsigned i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        size_t bytes = sizes[i] << 20;
        for (size_t o = 0; o < bytes; o += 4096) *(volatile char *)alias(o, 0) = 1;
        double best = 1e9, best_plain = 1e9;
        for (int rep = 0; rep < 5; rep++) {
            double s = now();
            pid_t pid = fork_isolated();
            if (pid == 0) _exit(0);
            double e = now();
            waitpid(pid, NULL, 0);
            if (e - s < best) best = e - s;
            // Plain fork of the same process, for comparison (heap stays shared).
            s = now();
            pid = fork();
            if (pid == 0) _exit(0);
            e = now();
            waitpid(pid, NULL, 0);
            if (e - s < best_plain) best_plain = e - s;
        }
        printf("heap resident %4zu MiB: isolated fork %7.2f ms, plain fork %5.2f ms, extra %.3f ms/MiB\n",
               sizes[i], best * 1e3, best_plain * 1e3,
               sizes[i] ? (best - best_plain) * 1e3 / sizes[i] : 0.0);
    }
    return 0;
}

int main(int argc, char **argv) {
    copy_memcpy = getenv("COPY") && !strcmp(getenv("COPY"), "memcpy");
    if (argc > 2) naliases = atoi(argv[2]);
    if (naliases < 1 || naliases > MAX_ALIASES) naliases = 16;
    struct sigaction sa = {.sa_handler = park, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR2, &sa, NULL);
    heap_init();
    if (argc > 1 && !strcmp(argv[1], "bench")) return bench();
    return test();
}
