/*
 * kasan_test.c (kernel side) - the cases of tests/kunit/kasan_test.c (Linux's KASAN
 * KUnit suite as ported) that apply in a kernel, built freestanding with gcc's
 * -fsanitize=kernel-address (inline checks, stack and globals) against the kernel's
 * own kasan.h and kunit.h; plus the inline NULL, user and wild accesses, which an
 * inline x86-64 kernel takes as general protection faults on a non-canonical
 * shadow address (kasan_non_canonical_hook's line).
 */
#include "kunit.h"

static void *volatile kasan_ptr_result;
static volatile int kasan_int_result;

/* ---- kmalloc ---- */

static void kmalloc_oob_right(struct kunit *test)
{
	size_t size = 128 - KASAN_GRANULE_SIZE - 5;
	char *p = kmalloc(size, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, p);
	OPTIMIZER_HIDE_VAR(p);
	EXPECT_KASAN_FAIL(p[size] = 'x', "slab-out-of-bounds");
	EXPECT_KASAN_FAIL(p[size + 5] = 'y', "slab-out-of-bounds");
	EXPECT_KASAN_FAIL(p[0] = p[size + KASAN_GRANULE_SIZE + 5], "slab-out-of-bounds");
	kfree(p);
}

static void kmalloc_oob_left(struct kunit *test)
{
	size_t size = 15;
	char *neighbour = kmalloc(size, GFP_KERNEL);
	char *p = kmalloc(size, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, neighbour);
	KUNIT_ASSERT_NOT_NULL(test, p);
	OPTIMIZER_HIDE_VAR(p);
	EXPECT_KASAN_FAIL(*p = *(p - 1), "slab-out-of-bounds");
	kfree(p);
	kfree(neighbour);
}

static void kmalloc_big_oob_right(struct kunit *test)
{
	size_t size = KMALLOC_MAX_CACHE_SIZE - 256;
	char *p = kmalloc(size, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, p);
	OPTIMIZER_HIDE_VAR(p);
	EXPECT_KASAN_FAIL(p[size] = 0, "slab-out-of-bounds");
	kfree(p);
}

static void kmalloc_large_oob_right(struct kunit *test)
{
	size_t size = KMALLOC_MAX_CACHE_SIZE + 10;
	char *p = kmalloc(size, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, p);
	OPTIMIZER_HIDE_VAR(p);
	EXPECT_KASAN_FAIL(p[size + OOB_TAG_OFF] = 0, "slab-out-of-bounds");
	kfree(p);
}

static void kmalloc_large_uaf(struct kunit *test)
{
	size_t size = KMALLOC_MAX_CACHE_SIZE + 10;
	char *p = kmalloc(size, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, p);
	kfree(p);
	EXPECT_KASAN_FAIL(((volatile char *)p)[0], "use-after-free");
}

static void kmalloc_large_invalid_free(struct kunit *test)
{
	size_t size = KMALLOC_MAX_CACHE_SIZE + 10;
	char *p = kmalloc(size, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, p);
	EXPECT_KASAN_FAIL(kfree(p + 1), "invalid-free");
	kfree(p);
}

/* A big object: its shadow's interior is the shared zero page while live and the
 * shared poisoned page once freed, only its edges real (the shadow economy). */
static void kmalloc_huge_uaf(struct kunit *test)
{
	size_t size = 4 << 20;
	char *p = kmalloc(size, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, p);
	OPTIMIZER_HIDE_VAR(p);
	p[0] = 1;
	p[size / 2] = 2;
	p[size - 1] = 3;
	EXPECT_KASAN_FAIL(p[size] = 0, "slab-out-of-bounds");
	kfree(p);
	EXPECT_KASAN_FAIL(((volatile char *)p)[size / 2], "use-after-free");
}

static void page_alloc_uaf(struct kunit *test)
{
	unsigned int order = 4;
	char *p = (char *)__get_free_pages(GFP_KERNEL, order);

	KUNIT_ASSERT_NOT_NULL(test, p);
	free_pages((unsigned long)p, order);
	EXPECT_KASAN_FAIL(((volatile char *)p)[0], "use-after-free");
}

static void kmalloc_uaf(struct kunit *test)
{
	size_t size = 10;
	char *p = kmalloc(size, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, p);
	kfree(p);
	EXPECT_KASAN_FAIL(((volatile char *)p)[8], "slab-use-after-free");
}

static void kmalloc_uaf2(struct kunit *test)
{
	size_t size = 43;
	char *p1 = kmalloc(size, GFP_KERNEL), *p2;

	KUNIT_ASSERT_NOT_NULL(test, p1);
	OPTIMIZER_HIDE_VAR(p1);
	kfree(p1);
	p2 = kmalloc(size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p2);
	OPTIMIZER_HIDE_VAR(p2);
	/* The quarantine keeps p1's slot from being handed out again at once. */
	if (p1 == p2)
		kt_fail(test, __LINE__, "the freed object was reused at once");
	EXPECT_KASAN_FAIL(((volatile char *)p1)[40], "slab-use-after-free");
	kfree(p2);
}

static void kmalloc_oob_in_memset(struct kunit *test)
{
	size_t size = 128 - KASAN_GRANULE_SIZE;
	char *p = kmalloc(size, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, p);
	OPTIMIZER_HIDE_VAR(p);
	OPTIMIZER_HIDE_VAR(size);
	EXPECT_KASAN_FAIL(memset(p, 0, size + KASAN_GRANULE_SIZE), "slab-out-of-bounds");
	kfree(p);
}

static void kmalloc_memmove_invalid_size(struct kunit *test)
{
	size_t size = 64;
	long n = size; /* 4 bytes past the end */
	char *p = kmalloc(size, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, p);
	memset(p, 0, size);
	OPTIMIZER_HIDE_VAR(p);
	OPTIMIZER_HIDE_VAR(n);
	EXPECT_KASAN_FAIL(memmove(p, p + 4, n), "slab-out-of-bounds");
	kfree(p);
}

static void kmalloc_double_kzfree(struct kunit *test)
{
	char *p = kmalloc(16, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, p);
	kfree_sensitive(p);
	EXPECT_KASAN_FAIL(kfree_sensitive(p), "double-free");
}

/* ---- RCU-like deferred callbacks ---- */

static struct kasan_rcu_info {
	int i;
	struct rcu_head rcu;
} *global_rcu_ptr;

static void rcu_uaf_reclaim(struct rcu_head *head)
{
	struct kasan_rcu_info *info = container_of(head, struct kasan_rcu_info, rcu);

	kfree(info);
	(void)((volatile struct kasan_rcu_info *)info)->i;
}

static void rcu_uaf(struct kunit *test)
{
	struct kasan_rcu_info *p = kmalloc(sizeof(*p), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, p);
	global_rcu_ptr = p;
	EXPECT_KASAN_FAIL(call_rcu(&global_rcu_ptr->rcu, rcu_uaf_reclaim); rcu_barrier(),
			  "slab-use-after-free");
}

/* ---- kmem_cache ---- */

static void kmem_cache_oob(struct kunit *test)
{
	size_t size = 200;
	struct kmem_cache *cache = kmem_cache_create("test_cache", size, 0, 0, NULL);
	char *p;

	KUNIT_ASSERT_NOT_NULL(test, cache);
	p = kmem_cache_alloc(cache, GFP_KERNEL);
	if (!p) {
		kt_fail(test, __LINE__, "allocation failed");
		kmem_cache_destroy(cache);
		return;
	}
	EXPECT_KASAN_FAIL(*p = p[size + OOB_TAG_OFF], "slab-out-of-bounds");
	kmem_cache_free(cache, p);
	kmem_cache_destroy(cache);
}

static void kmem_cache_double_free(struct kunit *test)
{
	size_t size = 200;
	struct kmem_cache *cache = kmem_cache_create("test_cache", size, 0, 0, NULL);
	char *p;

	KUNIT_ASSERT_NOT_NULL(test, cache);
	p = kmem_cache_alloc(cache, GFP_KERNEL);
	if (!p) {
		kt_fail(test, __LINE__, "allocation failed");
		kmem_cache_destroy(cache);
		return;
	}
	kmem_cache_free(cache, p);
	EXPECT_KASAN_FAIL(kmem_cache_free(cache, p), "double-free");
	kmem_cache_destroy(cache);
}

/* ---- mempool ---- */

static void mempool_kmalloc_oob_right(struct kunit *test)
{
	size_t size = 128 - KASAN_GRANULE_SIZE - 5;
	mempool_t *pool = mempool_create_kmalloc_pool(2, size);
	char *elem;

	KUNIT_ASSERT_NOT_NULL(test, pool);
	elem = mempool_alloc_preallocated(pool);
	KUNIT_ASSERT_NOT_NULL(test, elem);
	OPTIMIZER_HIDE_VAR(elem);
	EXPECT_KASAN_FAIL(((volatile char *)&elem[size])[0], "slab-out-of-bounds");
	mempool_free(elem, pool);
	mempool_destroy(pool);
}

static void mempool_kmalloc_uaf(struct kunit *test)
{
	mempool_t *pool = mempool_create_kmalloc_pool(2, 128);
	char *elem;

	KUNIT_ASSERT_NOT_NULL(test, pool);
	elem = mempool_alloc_preallocated(pool);
	KUNIT_ASSERT_NOT_NULL(test, elem);
	mempool_free(elem, pool);
	/* Back in the reserve: poisoned as freed, though not given back to the slab. */
	EXPECT_KASAN_FAIL(((volatile char *)elem)[0], "slab-use-after-free");
	mempool_destroy(pool);
}

/* ---- globals, stack, allocas ---- */

static char global_array[10];

static void kasan_global_oob_right(struct kunit *test)
{
	char *volatile array = global_array;
	char *p = &array[ARRAY_SIZE(global_array) + 3];

	EXPECT_KASAN_FAIL((void)*(volatile char *)p, "global-out-of-bounds");
}

static void kasan_stack_oob(struct kunit *test)
{
	char stack_array[10];
	char *volatile array = stack_array;
	char *p = &array[ARRAY_SIZE(stack_array) + OOB_TAG_OFF];

	EXPECT_KASAN_FAIL((void)*(volatile char *)p, "stack-out-of-bounds");
}

static void kasan_alloca_oob_left(struct kunit *test)
{
	volatile int n = 10;
	char alloca_array[n];
	char *volatile array = alloca_array;
	char *p = array - 1;

	EXPECT_KASAN_FAIL((void)*(volatile char *)p, "alloca-out-of-bounds");
}

static void kasan_alloca_oob_right(struct kunit *test)
{
	volatile int n = 10;
	char alloca_array[n];
	char *volatile array = alloca_array;
	char *p = array + n;

	EXPECT_KASAN_FAIL((void)*(volatile char *)p, "alloca-out-of-bounds");
}

/* ---- vmalloc (shadow populated on demand, released lazily) ---- */

static void vmalloc_oob(struct kunit *test)
{
	size_t size = PAGE_SIZE / 2 - KASAN_GRANULE_SIZE - 5;
	char *v = vmalloc(size);

	KUNIT_ASSERT_NOT_NULL(test, v);
	OPTIMIZER_HIDE_VAR(v);
	v[0] = 0;
	v[size - 1] = 0;
	barrier();
	EXPECT_KASAN_FAIL(((volatile char *)v)[size], "vmalloc-out-of-bounds");
	EXPECT_KASAN_FAIL(((volatile char *)v)[round_up(size, KASAN_GRANULE_SIZE)],
			  "vmalloc-out-of-bounds");
	vfree(v);
}

static void vmalloc_uaf(struct kunit *test)
{
	size_t size = 3 * PAGE_SIZE;
	char *v = vmalloc(size);

	KUNIT_ASSERT_NOT_NULL(test, v);
	OPTIMIZER_HIDE_VAR(v);
	v[size - 1] = 1;
	vfree(v);
	/* Freed, not yet purged: its shadow is still mapped and says invalid. */
	EXPECT_KASAN_FAIL(((volatile char *)v)[8], "vmalloc-out-of-bounds");
}

/* ---- the shadow economy: shadow real only where memory is used ---- */

/*
 * Big objects get real shadow only at their edges (the interior is the shared zero
 * page while live, the shared poisoned page once freed), and when their memory goes
 * back to the allocator so do their shadow pages; vmalloc areas' shadow is populated
 * per area and unmapped at the lazy purge. A freed big object stays detectable.
 */
static void shadow_economy(struct kunit *test)
{
	enum { N = 16, SZ = 1 << 20, VN = 8 };
	char *p[N], *v[VN];
	long before, live, freed, vlive, vfreed;
	int i;

	before = kasan_shadow_real_pages("before");
	for (i = 0; i < N; i++) {
		p[i] = kmalloc(SZ, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, p[i]);
		p[i][0] = 1;
		p[i][SZ / 2] = 2;
		p[i][SZ - 1] = 3;
	}
	live = kasan_shadow_real_pages("16 live 1 MiB kmalloc objects");
	/* A flat shadow: SZ / 8 / PAGE_SIZE = 32 real pages per object. */
	if (live - before > N * 4)
		kt_fail(test, __LINE__, "live big objects cost more than their edges in shadow");
	for (i = 0; i < N; i++)
		kfree(p[i]);
	EXPECT_KASAN_FAIL(((volatile char *)p[N - 1])[SZ / 2], "use-after-free");
	freed = kasan_shadow_real_pages("after kfree (quarantine holds the newest)");
	if (freed > before + 8)
		kt_fail(test, __LINE__, "freed big objects kept their shadow pages");

	for (i = 0; i < VN; i++) {
		v[i] = vmalloc(SZ);
		KUNIT_ASSERT_NOT_NULL(test, v[i]);
		v[i][SZ - 1] = 1;
	}
	vlive = kasan_shadow_real_pages("8 live 1 MiB vmalloc areas");
	/* Populated per area (the space's shadow starts unmapped), edges real only. */
	if (vlive <= freed)
		kt_fail(test, __LINE__, "vmalloc areas got no shadow of their own");
	if (vlive - freed > VN * 4)
		kt_fail(test, __LINE__, "live vmalloc areas cost more than their edges in shadow");
	for (i = 0; i < VN; i++)
		vfree(v[i]);
	/* Push the areas through the quarantine, then purge the lazy list. */
	for (i = 0; i < N; i++)
		kfree(kmalloc(SZ, GFP_KERNEL));
	vm_unmap_aliases();
	vfreed = kasan_shadow_real_pages("after vfree and vm_unmap_aliases");
	if (vfreed > freed + 16)
		kt_fail(test, __LINE__, "purged vmalloc areas kept their shadow");
}

/* ---- Rust (rust/kasan_test_rust.rs, instrumented by rustc +nightly) ---- */

unsigned char kasan_test_rust_uaf(void) __attribute__((weak));

static void rust_uaf(struct kunit *test)
{
	if (!kasan_test_rust_uaf) {
		kt_skip(test, "rust/kasan_test_rust.rs was not built: no nightly rustc, whose "
			      "-Zsanitizer=address instruments Rust code");
		return;
	}
	EXPECT_KASAN_FAIL(kasan_int_result = kasan_test_rust_uaf(), "slab-use-after-free");
}

/* ---- inline accesses to addresses without shadow: general protection faults ---- */

static void null_ptr_deref(struct kunit *test)
{
	char *volatile p = NULL;

	EXPECT_KASAN_FAIL(kasan_int_result = *(volatile char *)(p + 0x10), "null-ptr-deref");
}

static void user_memory_access(struct kunit *test)
{
	char *volatile p = (char *)0x400000;

	EXPECT_KASAN_FAIL(*(volatile char *)p = 1, "user-memory-access");
}

static void wild_memory_access(struct kunit *test)
{
	char *volatile p = (char *)0xdead000000000000ul;

	EXPECT_KASAN_FAIL(kasan_int_result = *(volatile long *)p, "wild-memory-access");
}

const struct kunit_case kasan_kernel_cases[] = {
	KUNIT_CASE(kmalloc_oob_right),
	KUNIT_CASE(kmalloc_oob_left),
	KUNIT_CASE(kmalloc_big_oob_right),
	KUNIT_CASE(kmalloc_large_oob_right),
	KUNIT_CASE(kmalloc_large_uaf),
	KUNIT_CASE(kmalloc_large_invalid_free),
	KUNIT_CASE(kmalloc_huge_uaf),
	KUNIT_CASE(page_alloc_uaf),
	KUNIT_CASE(kmalloc_uaf),
	KUNIT_CASE(kmalloc_uaf2),
	KUNIT_CASE(kmalloc_oob_in_memset),
	KUNIT_CASE(kmalloc_memmove_invalid_size),
	KUNIT_CASE(kmalloc_double_kzfree),
	KUNIT_CASE(rcu_uaf),
	KUNIT_CASE(kmem_cache_oob),
	KUNIT_CASE(kmem_cache_double_free),
	KUNIT_CASE(mempool_kmalloc_oob_right),
	KUNIT_CASE(mempool_kmalloc_uaf),
	KUNIT_CASE(kasan_global_oob_right),
	KUNIT_CASE(kasan_stack_oob),
	KUNIT_CASE(kasan_alloca_oob_left),
	KUNIT_CASE(kasan_alloca_oob_right),
	KUNIT_CASE(vmalloc_oob),
	KUNIT_CASE(vmalloc_uaf),
	KUNIT_CASE(shadow_economy),
	KUNIT_CASE(rust_uaf),
	KUNIT_CASE(null_ptr_deref),
	KUNIT_CASE(user_memory_access),
	KUNIT_CASE(wild_memory_access),
};
const unsigned long kasan_kernel_ncases = ARRAY_SIZE(kasan_kernel_cases);
