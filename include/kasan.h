/*
 * kasan.h - the C API of the kasan runtime (libkasan.a / libkasan.so).
 *
 * Linux's names and semantics, so code moved between a kernel and a test harness
 * compiles as is. Build with `kasan cc`, which puts this directory on the include path
 * and defines __KASAN__. malloc, free, calloc, realloc, memalign, posix_memalign,
 * aligned_alloc and malloc_usable_size are served by the same allocator (the generic
 * kmalloc-* slab caches); they need no declaration here.
 */
#ifndef KASAN_H
#define KASAN_H

#include <stddef.h>
#ifndef __cplusplus
#include <stdbool.h>
#endif
#ifdef __cplusplus
#include <features.h> /* for __GLIBC__ below; g++ defines _GNU_SOURCE, so nothing is fixed early */
#endif

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Allocation flags. Values are Linux's where Linux has a single bit for the meaning;
 * only __GFP_ZERO changes behaviour here (the memory is zeroed). The others are
 * accepted and ignored: a hosted process never sleeps for reclaim.
 */
typedef unsigned int gfp_t;

#define __GFP_HIGH      0x20u
#define __GFP_IO        0x40u
#define __GFP_FS        0x80u
#define __GFP_ZERO      0x100u
#define __GFP_RECLAIM   0xc00u  /* __GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM */
#define __GFP_NOWARN    0x2000u

#define GFP_ATOMIC      (__GFP_HIGH | 0x800u)  /* __GFP_HIGH | __GFP_KSWAPD_RECLAIM */
#define GFP_KERNEL      (__GFP_RECLAIM | __GFP_IO | __GFP_FS)
#define GFP_NOWAIT      0x800u                 /* __GFP_KSWAPD_RECLAIM */

/* What kmalloc(0) returns: not NULL, but faults (and is reported) when dereferenced. */
#define ZERO_SIZE_PTR ((void *)16)
#define ZERO_OR_NULL_PTR(x) ((unsigned long)(x) <= (unsigned long)ZERO_SIZE_PTR)

/* kmalloc family: the generic slab caches (kmalloc-<size>), as malloc. */
void  *kmalloc(size_t size, gfp_t flags);
void  *kzalloc(size_t size, gfp_t flags);
void  *kcalloc(size_t n, size_t size, gfp_t flags);
void  *kmalloc_array(size_t n, size_t size, gfp_t flags);
void  *krealloc(const void *p, size_t new_size, gfp_t flags);
void   kfree(const void *p);
void   kfree_sensitive(const void *p);
size_t ksize(const void *p);
/* One NUMA node here: node is ignored. _track_caller: as kmalloc (the alloc stack
 * is the whole call chain, which shows the caller's caller too). */
void  *kmalloc_node(size_t size, gfp_t flags, int node);
void  *kzalloc_node(size_t size, gfp_t flags, int node);
void  *kmalloc_track_caller(size_t size, gfp_t flags);
void  *kmalloc_node_track_caller(size_t size, gfp_t flags, int node);
/* The largest kmalloc served by a slab cache; larger ones are page backed. */
#define KMALLOC_MAX_CACHE_SIZE 8192UL

/* Dedicated slab caches. Flag values are Linux's; see the notes on each. */
#define SLAB_HWCACHE_ALIGN    0x00002000UL  /* align objects to the cache line */
#define SLAB_TYPESAFE_BY_RCU  0x00080000UL  /* freed objects may be reused as the same type */
#define SLAB_ACCOUNT          0x04000000UL  /* accepted, no effect (no memory cgroups) */

struct kmem_cache;
struct kmem_cache *kmem_cache_create(const char *name, unsigned int size, unsigned int align,
                                     unsigned long flags, void (*ctor)(void *));
void  *kmem_cache_alloc(struct kmem_cache *s, gfp_t flags);
void  *kmem_cache_zalloc(struct kmem_cache *s, gfp_t flags);
void   kmem_cache_free(struct kmem_cache *s, void *p);
int    kmem_cache_alloc_bulk(struct kmem_cache *s, gfp_t flags, size_t n, void **p); /* n or 0 */
void   kmem_cache_free_bulk(struct kmem_cache *s, size_t n, void **p);
void   kmem_cache_destroy(struct kmem_cache *s);  /* with live objects: reported, cache kept */

/* Memory pools: a reserve of min_nr elements, poisoned while they wait in the pool. */
typedef struct mempool mempool_t;
mempool_t *mempool_create_kmalloc_pool(int min_nr, size_t size);
mempool_t *mempool_create_slab_pool(int min_nr, struct kmem_cache *cache);
mempool_t *mempool_create_page_pool(int min_nr, int order);
void  *mempool_alloc(mempool_t *pool, gfp_t flags);      /* allocator first, then the reserve */
void  *mempool_alloc_preallocated(mempool_t *pool);      /* the reserve only */
void   mempool_free(void *element, mempool_t *pool);
void   mempool_destroy(mempool_t *pool);

/* Page allocator: 2^order contiguous pages, addresses as unsigned long as in Linux. */
unsigned long __get_free_pages(gfp_t flags, unsigned int order);
void   free_pages(unsigned long addr, unsigned int order);

/*
 * struct page, as in Linux: alloc_pages returns the first page's descriptor, and
 * page + 1 is the next page. A descriptor is an address in a never-mapped range
 * (x86-64's vmemmap base): pass it to these functions, never dereference it.
 * "Physical" addresses are untagged virtual ones. In sw-tags mode page_address
 * gives a page-allocator page its allocation's tag and any other page (slab,
 * vmalloc, large kmalloc) the match-all tag, as Linux does.
 */
#ifndef PAGE_SHIFT
#define PAGE_SHIFT 12
#endif
#ifndef PAGE_SIZE
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#endif
#define offset_in_page(p) ((unsigned long)(p) & (PAGE_SIZE - 1))
struct page { unsigned long opaque[8]; };
typedef unsigned long long phys_addr_t;
struct page *alloc_pages(gfp_t gfp, unsigned int order);   /* NULL on failure */
void   __free_pages(struct page *page, unsigned int order);
void  *page_address(const struct page *page);
struct page *virt_to_page(const void *addr);
phys_addr_t virt_to_phys(const volatile void *addr);
void  *phys_to_virt(phys_addr_t phys);

/* vmalloc areas: page-granular, checked unless kasan.vmalloc=off. */
void  *vmalloc(unsigned long size);
void  *vzalloc(unsigned long size);
void   vfree(const void *p);
/* An area aligned to align (a power of two); __GFP_ZERO zeroes it; node is ignored. */
void  *__vmalloc_node(unsigned long size, unsigned long align, gfp_t gfp_mask,
		      int node, const void *caller);
/*
 * Linux's vm_unmap_aliases(): purges the vfree'd areas waiting for the lazy purge
 * now (their shadow pages nobody else uses are unmapped, their addresses reusable).
 */
void   vm_unmap_aliases(void);
/*
 * Linux 6.12's vrealloc: within the area's pages it is resized in place (the cut
 * part poisoned, the new part valid), else moved. NULL p: vmalloc; size 0: vfree.
 */
void  *vrealloc(const void *p, size_t size, gfp_t flags);
bool   is_vmalloc_addr(const void *addr);            /* in a live vmalloc area */
struct page *vmalloc_to_page(const void *addr);      /* NULL if not */
/* Whole pages of a live vmalloc area or page allocation; 0 or -EINVAL. */
int    set_memory_ro(unsigned long addr, int numpages);
int    set_memory_rw(unsigned long addr, int numpages);
/*
 * vmap: a new vmalloc area (its own tag in sw-tags mode) showing the given pages
 * at a second address; vmalloc_to_page on it gives those pages back. Sw-tags mode
 * only (its heap is shared memory mapped at 16 aliases, which can map a page
 * twice); generic mode's heap is private memory: NULL and one warning line.
 */
#define VM_MAP 0x00000004UL
typedef unsigned long pgprot_t;
#define PAGE_KERNEL ((pgprot_t)0)
void  *vmap(struct page **pages, unsigned int count, unsigned long flags, pgprot_t prot);
void   vunmap(const void *addr);
void  *vm_map_ram(struct page **pages, unsigned int count, int node);
void   vm_unmap_ram(const void *mem, unsigned int count);

/*
 * Linux's kernel string API and user copies, checked as Linux's instrumented
 * implementations are (the README's checked-function table says what each checks).
 * strsep comes from <string.h> (_DEFAULT_SOURCE). In a hosted process "user memory" is ordinary memory:
 * the copies check the kernel side against the shadow, as Linux does, and reach the
 * user side through the kernel, so an unmapped user address makes them come short
 * (the bytes not copied are returned) instead of crashing.
 */
#ifndef __user
#define __user
#endif
long   strscpy(char *dst, const char *src, size_t count);     /* ssize_t: length, or -E2BIG (-7) */
/* glibc 2.38 declares these too: a compatible redeclaration in C; C++ would see a
 * different exception specification. */
#if !defined(__cplusplus) || !(defined(__GLIBC__) && \
      (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 38)))
size_t strlcpy(char *dst, const char *src, size_t size);
size_t strlcat(char *dst, const char *src, size_t count);
#endif
char  *kstrdup(const char *s, gfp_t gfp);
char  *kstrndup(const char *s, size_t max, gfp_t gfp);
void  *kmemdup(const void *src, size_t len, gfp_t gfp);
void  *memscan(void *addr, int c, size_t size);                /* addr + size if c is absent */
char  *strnchr(const char *s, size_t count, int c);
unsigned long copy_to_user(void __user *to, const void *from, unsigned long n);   /* bytes not copied */
unsigned long copy_from_user(void *to, const void __user *from, unsigned long n); /* bytes not copied */
long   strncpy_from_user(char *dst, const char __user *src, long count);          /* length, count or -EFAULT */
/* Linux's unchecked-access_ok and atomic-context variants: the same KASAN checks. */
unsigned long __copy_to_user(void __user *to, const void *from, unsigned long n);
unsigned long __copy_from_user(void *to, const void __user *from, unsigned long n);
unsigned long __copy_to_user_inatomic(void __user *to, const void *from, unsigned long n);
unsigned long __copy_from_user_inatomic(void *to, const void __user *from, unsigned long n);
/* Both ranges checked; 0, or -EFAULT (-14) if an address is not mapped. */
long   copy_to_kernel_nofault(void *dst, const void *src, size_t size);

/*
 * RCU (Linux's names): call_rcu runs func(head) on the runtime's RCU thread after a
 * grace period (every thread inside rcu_read_lock when it started has left);
 * rcu_barrier waits for every callback queued before it. call_rcu and queue_work
 * record the caller's stack on the object, shown in a later report as "Last
 * potentially related work creation". Workqueues: one worker thread each, items in
 * queue order; a work function may free its own item.
 */
struct rcu_head {
	struct rcu_head *next;
	void (*func)(struct rcu_head *head);
};
typedef void (*rcu_callback_t)(struct rcu_head *head);
void   call_rcu(struct rcu_head *head, rcu_callback_t func);
void   rcu_barrier(void);
void   synchronize_rcu(void);
void   rcu_read_lock(void);
void   rcu_read_unlock(void);
#define rcu_dereference(p)               (*(__typeof__(p) volatile *)&(p))
#define rcu_dereference_protected(p, c)  (p)
#define rcu_assign_pointer(p, v)         __atomic_store_n(&(p), (v), __ATOMIC_RELEASE)
#ifndef container_of
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
#endif

struct work_struct;
typedef void (*work_func_t)(struct work_struct *work);
struct work_struct {
	unsigned long data;          /* bit 0: pending */
	struct work_struct *next;    /* the runtime's queue */
	work_func_t func;
};
#define INIT_WORK(w, f) \
	do { (w)->data = 0; (w)->next = NULL; (w)->func = (f); } while (0)
struct workqueue_struct;
struct workqueue_struct *alloc_workqueue(const char *name, unsigned int flags, int max_active, ...);
#define create_workqueue(name) alloc_workqueue((name), 0, 1)
#define create_singlethread_workqueue(name) alloc_workqueue((name), 0, 1)
bool   queue_work(struct workqueue_struct *wq, struct work_struct *work); /* false if pending */
void   flush_workqueue(struct workqueue_struct *wq);
void   destroy_workqueue(struct workqueue_struct *wq);  /* runs what is queued, then frees */
bool   schedule_work(struct work_struct *work);         /* on the system workqueue */
void   flush_scheduled_work(void);

/* Runtime controls. */
void   kasan_disable_current(void);                   /* nestable: no reports from this thread */
void   kasan_enable_current(void);
void   kasan_record_aux_stack(const void *p);         /* "Last potentially related work creation" */
void   kasan_poison_range(const void *p, size_t size);    /* user-managed memory, e.g. arenas */
void   kasan_unpoison_range(const void *p, size_t size);
int    kasan_reports_count(void);                     /* bugs reported so far in this process */
/* The bug type of the newest report ("slab-out-of-bounds", ...), NULL before the
 * first: what Linux's KUnit suite reads from the console, for test harnesses. */
const char *kasan_last_bug_type(void);
bool   kasan_save_enable_multi_shot(void);             /* every report from now on; the old setting */
void   kasan_restore_multi_shot(bool enabled);
bool   kasan_enabled(void);                            /* false with kasan=off */
bool   kasan_vmalloc_enabled(void);                    /* kasan.vmalloc (default on) */
#ifdef __KASAN_SW_TAGS__
#define KASAN_GRANULE_SIZE 16
#else
#define KASAN_GRANULE_SIZE 8
#endif

/*
 * Tag-based mode (kasan cc --mode=sw-tags), Linux's names. Heap pointers carry a random
 * 4-bit tag (x86-64: 0x0..0xd; 0xe marks freed memory, 0xf is the match-all tag that
 * untagged pointers carry). In generic mode: the pointer unchanged, and 0xff.
 */
void  *kasan_reset_tag(const void *p);               /* the match-all pointer to the same memory */
void  *kasan_set_tag(const void *p, unsigned char tag);
unsigned char kasan_get_tag(const void *p);
#define KASAN_TAG_MIN     0x00  /* random tags: KASAN_TAG_MIN..KASAN_TAG_MAX */
#define KASAN_TAG_MAX     0x0d
#define KASAN_TAG_INVALID 0x0e  /* freed and redzone memory */
#define KASAN_TAG_KERNEL  0x0f  /* match-all: untagged pointers */

/* The ASan user API, for code that checks __SANITIZE_ADDRESS__ (gcc also defines it under
 * kernel-address). Same meaning as kasan_poison_range / kasan_unpoison_range. */
void __asan_poison_memory_region(void const volatile *addr, size_t size);
void __asan_unpoison_memory_region(void const volatile *addr, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* KASAN_H */
