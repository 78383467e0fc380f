/*
 * kasan.h (kernel side) - the allocator and KASAN API the bare-metal kernel gives
 * its C code: Linux's names, served by kasan-slab through the kernel's Rust part.
 * Freestanding: no libc behind it.
 */
#ifndef KASAN_KERNEL_H
#define KASAN_KERNEL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

typedef unsigned int gfp_t;
#define GFP_KERNEL 0xcc0u
#define __GFP_ZERO 0x100u

#define KASAN_GRANULE_SIZE 8
#define KMALLOC_MAX_CACHE_SIZE 8192
#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)

void *kmalloc(size_t size, gfp_t flags);
void *kzalloc(size_t size, gfp_t flags);
void kfree(const void *p);
void kfree_sensitive(const void *p);

struct kmem_cache;
struct kmem_cache *kmem_cache_create(const char *name, unsigned int size, unsigned int align,
				     unsigned long flags, void (*ctor)(void *));
void *kmem_cache_alloc(struct kmem_cache *s, gfp_t flags);
void kmem_cache_free(struct kmem_cache *s, void *p);
void kmem_cache_destroy(struct kmem_cache *s);

unsigned long __get_free_pages(gfp_t flags, unsigned int order);
void free_pages(unsigned long addr, unsigned int order);

void *vmalloc(unsigned long size);
void vfree(const void *p);
void vm_unmap_aliases(void);

/* mempool: a reserve of `min_nr` kmalloc elements of `size` bytes. */
typedef struct mempool mempool_t;
mempool_t *mempool_create_kmalloc_pool(int min_nr, size_t size);
void *mempool_alloc_preallocated(mempool_t *pool);
void mempool_free(void *elem, mempool_t *pool);
void mempool_destroy(mempool_t *pool);

/* RCU-like deferred callbacks: run by rcu_barrier() (one CPU, no preemption: every
 * point between two calls is a quiescent state). */
struct rcu_head {
	struct rcu_head *next;
	void (*func)(struct rcu_head *head);
};
void call_rcu(struct rcu_head *head, void (*func)(struct rcu_head *head));
void rcu_barrier(void);

/* Checked memory functions (Linux's instrumented memset/memcpy/memmove). */
void *kasan_memset(void *s, int c, size_t n);
void *kasan_memcpy(void *d, const void *s, size_t n);
void *kasan_memmove(void *d, const void *s, size_t n);
#define memset(s, c, n) kasan_memset((s), (c), (n))
#define memcpy(d, s, n) kasan_memcpy((d), (s), (n))
#define memmove(d, s, n) kasan_memmove((d), (s), (n))

/* Shadow pages that are real (private) now; prints them with `label` too. */
long kasan_shadow_real_pages(const char *label);

int kasan_reports_count(void);
const char *kasan_last_bug_type(void);
bool kasan_enabled(void);

/* Console. */
void kputs(const char *s);

#endif
