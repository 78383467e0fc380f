//! Linux's slab-cache and mempool APIs (`kmem_cache_*`, `mempool_*`) for C
//! programs, over the kasan-slab heap.
//!
//! A `struct kmem_cache *` is a small kmalloc object naming the heap's cache, so
//! using a destroyed cache is a use-after-free of that object, reported as Linux's
//! `kasan_check_byte` would. A `mempool_t *` is a kmalloc object holding the pool's
//! reserve; elements in the reserve are poisoned (Linux's
//! `kasan_mempool_poison_object`), so touching or freeing them again is reported.
#![allow(unsafe_code)]

use core::ffi::{c_char, c_void, CStr};
use core::ptr;

use kasan_core::platform::Platform;
use kasan_core::sync::SpinLock;
use kasan_hosted::task::frame_pointer;
use kasan_hosted::{output, HostedPlatform};
use kasan_slab::cache::Ctor;
use kasan_slab::{DestroyError, FreeError, FreeKind};

use crate::alloc_api::{alloc_with, free_kind};
use crate::runtime::{self, ensure_init, enter, format_into, track, HEAP};

const CACHE_MAGIC: u64 = 0x6b6d_656d_6361_6368; // "kmemcach"
const POOL_MAGIC: u64 = 0x6d65_6d70_6f6f_6c21; // "mempool!"
const GFP_ZERO: u32 = 0x100;

/// What a `struct kmem_cache *` points at.
#[repr(C)]
struct CacheHandle {
    magic: u64,
    index: u32,
}

/// Validates a cache handle (reporting a use of a freed one) and returns its index.
fn cache_index(s: *const c_void, fp: usize) -> Option<u32> {
    let s = s as usize;
    if s == 0 || !runtime::check(s, 1, false, fp) {
        return None;
    }
    if HEAP.usable_size(s) != Some(core::mem::size_of::<CacheHandle>()) {
        return None;
    }
    // SAFETY: `s` is a live heap object exactly the size of a handle.
    let handle = unsafe { &*(s as *const CacheHandle) };
    (handle.magic == CACHE_MAGIC).then_some(handle.index)
}

/// `struct kmem_cache *kmem_cache_create(const char *name, unsigned int size,
/// unsigned int align, slab_flags_t flags, void (*ctor)(void *))`.
///
/// # Safety
///
/// `name` must be NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kmem_cache_create(
    name: *const c_char,
    size: u32,
    align: u32,
    flags: u64,
    ctor: Option<Ctor>,
) -> *mut c_void {
    ensure_init();
    let fp = frame_pointer();
    let name = if name.is_null() {
        "(null)"
    } else {
        // SAFETY: the caller promises a terminated string.
        unsafe { CStr::from_ptr(name) }
            .to_str()
            .unwrap_or("(invalid)")
    };
    let Ok(index) = HEAP.cache_create(name, size as usize, align as usize, flags as u32, ctor)
    else {
        return ptr::null_mut();
    };
    let h = alloc_with(fp, |t| {
        HEAP.alloc(core::mem::size_of::<CacheHandle>(), 16, false, t)
    });
    if h.is_null() {
        let _ = HEAP.cache_destroy(index);
        return ptr::null_mut();
    }
    // SAFETY: `h` is a fresh heap object of the handle's size.
    unsafe {
        (h as *mut CacheHandle).write(CacheHandle {
            magic: CACHE_MAGIC,
            index,
        })
    };
    h
}

/// `void *kmem_cache_alloc(struct kmem_cache *s, gfp_t flags)`.
#[unsafe(no_mangle)]
pub extern "C" fn kmem_cache_alloc(s: *mut c_void, flags: u32) -> *mut c_void {
    let fp = frame_pointer();
    ensure_init();
    match cache_index(s, fp) {
        Some(i) => alloc_with(fp, |t| HEAP.cache_alloc(i, flags & GFP_ZERO != 0, t)),
        None => ptr::null_mut(),
    }
}

/// `void *kmem_cache_zalloc(struct kmem_cache *s, gfp_t flags)`.
#[unsafe(no_mangle)]
pub extern "C" fn kmem_cache_zalloc(s: *mut c_void, _flags: u32) -> *mut c_void {
    let fp = frame_pointer();
    ensure_init();
    match cache_index(s, fp) {
        Some(i) => alloc_with(fp, |t| HEAP.cache_alloc(i, true, t)),
        None => ptr::null_mut(),
    }
}

/// `void kmem_cache_free(struct kmem_cache *s, void *p)`: an object of another
/// cache, or no object, is an invalid free.
#[unsafe(no_mangle)]
pub extern "C" fn kmem_cache_free(s: *mut c_void, p: *mut c_void) {
    let fp = frame_pointer();
    ensure_init();
    if p.is_null() {
        return;
    }
    if let Some(i) = cache_index(s, fp) {
        free_kind(p as usize, FreeKind::Cache(i), fp);
    }
}

/// `int kmem_cache_alloc_bulk(struct kmem_cache *s, gfp_t flags, size_t n, void **p)`:
/// all `n` objects or none; returns `n` or 0.
///
/// # Safety
///
/// `p` must have room for `n` pointers.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kmem_cache_alloc_bulk(
    s: *mut c_void,
    flags: u32,
    n: usize,
    p: *mut *mut c_void,
) -> i32 {
    let fp = frame_pointer();
    ensure_init();
    let Some(i) = cache_index(s, fp) else {
        return 0;
    };
    for k in 0..n {
        let obj = alloc_with(fp, |t| HEAP.cache_alloc(i, flags & GFP_ZERO != 0, t));
        if obj.is_null() {
            for j in 0..k {
                // SAFETY: slots `0..k` were filled above.
                free_kind(unsafe { *p.add(j) } as usize, FreeKind::Cache(i), fp);
            }
            return 0;
        }
        // SAFETY: the caller gave room for `n` pointers; `k < n`.
        unsafe { *p.add(k) = obj };
    }
    n as i32
}

/// `void kmem_cache_free_bulk(struct kmem_cache *s, size_t n, void **p)`.
///
/// # Safety
///
/// `p` must hold `n` pointers.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kmem_cache_free_bulk(s: *mut c_void, n: usize, p: *mut *mut c_void) {
    let fp = frame_pointer();
    ensure_init();
    let Some(i) = cache_index(s, fp) else {
        return;
    };
    for k in 0..n {
        // SAFETY: the caller promises `n` pointers.
        let obj = unsafe { *p.add(k) };
        if !obj.is_null() {
            free_kind(obj as usize, FreeKind::Cache(i), fp);
        }
    }
}

/// Prints a one-line warning naming the caller, as Linux's `pr_err(... %pS ...)`.
fn warn_with_caller(what: core::fmt::Arguments<'_>, fp: usize) {
    let mut frames = [0usize; 1];
    let caller = kasan_hosted::task::save_stack(fp, 0, &mut frames);
    let mut name_buf = [0u8; 200];
    let mut name_len = 0;
    if caller == 1 {
        HostedPlatform.symbolize(frames[0], true, &mut |s| {
            name_len = format_into(
                &mut name_buf,
                format_args!("{}+{:#x}/{:#x}", s.name, s.offset, s.size),
            )
            .len();
        });
    }
    let mut buf = [0u8; 400];
    let caller = core::str::from_utf8(&name_buf[..name_len]).unwrap_or("?");
    output::write(format_into(
        &mut buf,
        format_args!("{what} when called from {caller}\n"),
    ));
}

/// `void kmem_cache_destroy(struct kmem_cache *s)`: a destroyed cache is a freed
/// object (a second destroy reports `slab-use-after-free`); a cache with live
/// objects is reported and left in place, as Linux does.
#[unsafe(no_mangle)]
pub extern "C" fn kmem_cache_destroy(s: *mut c_void) {
    let fp = frame_pointer();
    ensure_init();
    if s.is_null() {
        return;
    }
    let Some(i) = cache_index(s, fp) else {
        return;
    };
    match HEAP.cache_destroy(i) {
        Ok(()) | Err(DestroyError::NoCache) => free_kind(s as usize, FreeKind::Kmalloc, fp),
        Err(DestroyError::LiveObjects(n)) => {
            let name = HEAP
                .cache_name(i)
                .unwrap_or(kasan_core::report::Name::new("?"));
            warn_with_caller(
                format_args!(
                    "kmem_cache_destroy {}: Slab cache still has objects ({n} allocated)",
                    name.as_str()
                ),
                fp,
            );
        }
    }
}

/// What a pool's elements come from.
#[repr(u32)]
#[derive(Clone, Copy, PartialEq, Eq)]
enum PoolKind {
    Kmalloc = 0,
    Slab = 1,
    Pages = 2,
}

/// The pool header at the start of a `mempool_t` object; the reserve follows it.
#[repr(C)]
struct Pool {
    magic: u64,
    kind: PoolKind,
    min_nr: u32,
    arg: u64,
    curr_nr: u64,
}

/// All pools share one lock: their reserves are touched rarely.
static POOLS: SpinLock<()> = SpinLock::new(());

fn pool_of(pool: *mut c_void, fp: usize) -> Option<&'static mut Pool> {
    let p = pool as usize;
    if p == 0 || !runtime::check(p, 1, false, fp) {
        return None;
    }
    let size = HEAP.usable_size(p)?;
    if size < core::mem::size_of::<Pool>() {
        return None;
    }
    // SAFETY: a live heap object at least a header long; the magic check below
    // rejects anything else.
    let pool = unsafe { &mut *(p as *mut Pool) };
    let fits = core::mem::size_of::<Pool>() + pool.min_nr as usize * 8 <= size;
    (pool.magic == POOL_MAGIC && fits && pool.curr_nr <= pool.min_nr as u64).then_some(pool)
}

fn reserve(pool: &mut Pool) -> *mut usize {
    (pool as *mut Pool as usize + core::mem::size_of::<Pool>()) as *mut usize
}

fn element_kind(pool: &Pool) -> FreeKind {
    match pool.kind {
        PoolKind::Kmalloc => FreeKind::Kmalloc,
        PoolKind::Slab => FreeKind::Cache(pool.arg as u32),
        PoolKind::Pages => FreeKind::Pages(pool.arg as u32),
    }
}

fn pool_alloc_element(pool: &Pool, fp: usize) -> *mut c_void {
    match pool.kind {
        PoolKind::Kmalloc => alloc_with(fp, |t| HEAP.alloc(pool.arg as usize, 16, false, t)),
        PoolKind::Slab => alloc_with(fp, |t| HEAP.cache_alloc(pool.arg as u32, false, t)),
        PoolKind::Pages => alloc_with(fp, |t| HEAP.alloc_pages(pool.arg as u32, false, t)),
    }
}

fn create_pool(kind: PoolKind, min_nr: i32, arg: u64, fp: usize) -> *mut c_void {
    ensure_init();
    if !(1..=1 << 20).contains(&min_nr) {
        return ptr::null_mut();
    }
    let bytes = core::mem::size_of::<Pool>() + min_nr as usize * 8;
    let p = alloc_with(fp, |t| HEAP.alloc(bytes, 16, true, t));
    if p.is_null() {
        return p;
    }
    // SAFETY: a fresh zeroed heap object of `bytes` bytes.
    let pool = unsafe { &mut *(p as *mut Pool) };
    *pool = Pool {
        magic: POOL_MAGIC,
        kind,
        min_nr: min_nr as u32,
        arg,
        curr_nr: 0,
    };
    // Fill the reserve, each element poisoned while it waits.
    let t = enter(|| track(fp)).unwrap_or_default();
    for k in 0..min_nr as usize {
        let e = pool_alloc_element(pool, fp);
        if e.is_null()
            || HEAP
                .pool_poison(e as usize, element_kind(pool), &t)
                .is_err()
        {
            mempool_destroy(p);
            return ptr::null_mut();
        }
        // SAFETY: the reserve has `min_nr` slots; `k < min_nr`.
        unsafe { *reserve(pool).add(k) = e as usize };
        pool.curr_nr += 1;
    }
    p
}

/// `mempool_t *mempool_create_kmalloc_pool(int min_nr, size_t size)`.
#[unsafe(no_mangle)]
pub extern "C" fn mempool_create_kmalloc_pool(min_nr: i32, size: usize) -> *mut c_void {
    if size == 0 {
        return ptr::null_mut();
    }
    create_pool(PoolKind::Kmalloc, min_nr, size as u64, frame_pointer())
}

/// `mempool_t *mempool_create_slab_pool(int min_nr, struct kmem_cache *cache)`.
#[unsafe(no_mangle)]
pub extern "C" fn mempool_create_slab_pool(min_nr: i32, cache: *mut c_void) -> *mut c_void {
    let fp = frame_pointer();
    ensure_init();
    match cache_index(cache, fp) {
        Some(i) => create_pool(PoolKind::Slab, min_nr, u64::from(i), fp),
        None => ptr::null_mut(),
    }
}

/// `mempool_t *mempool_create_page_pool(int min_nr, int order)`.
#[unsafe(no_mangle)]
pub extern "C" fn mempool_create_page_pool(min_nr: i32, order: i32) -> *mut c_void {
    if !(0..=20).contains(&order) {
        return ptr::null_mut();
    }
    create_pool(PoolKind::Pages, min_nr, order as u64, frame_pointer())
}

/// `void *mempool_alloc(mempool_t *pool, gfp_t gfp)`: a fresh element from the
/// allocator, or one from the reserve when that fails (as Linux does).
#[unsafe(no_mangle)]
pub extern "C" fn mempool_alloc(pool: *mut c_void, _gfp: u32) -> *mut c_void {
    let fp = frame_pointer();
    ensure_init();
    let Some(pool) = pool_of(pool, fp) else {
        return ptr::null_mut();
    };
    let e = pool_alloc_element(pool, fp);
    if !e.is_null() {
        return e;
    }
    take_reserved(pool, fp)
}

/// `void *mempool_alloc_preallocated(mempool_t *pool)`: an element from the reserve
/// only, never from the allocator.
#[unsafe(no_mangle)]
pub extern "C" fn mempool_alloc_preallocated(pool: *mut c_void) -> *mut c_void {
    let fp = frame_pointer();
    ensure_init();
    let Some(pool) = pool_of(pool, fp) else {
        return ptr::null_mut();
    };
    take_reserved(pool, fp)
}

fn take_reserved(pool: &mut Pool, fp: usize) -> *mut c_void {
    let t = enter(|| track(fp)).unwrap_or_default();
    let _guard = POOLS.lock();
    while pool.curr_nr > 0 {
        pool.curr_nr -= 1;
        // SAFETY: the reserve holds `curr_nr + 1` elements.
        let e = unsafe { *reserve(pool).add(pool.curr_nr as usize) };
        if HEAP.pool_unpoison(e, &t) {
            return e as *mut c_void;
        }
    }
    ptr::null_mut()
}

/// `void mempool_free(void *element, mempool_t *pool)`: back into the reserve if it
/// is short (poisoned there), otherwise freed.
#[unsafe(no_mangle)]
pub extern "C" fn mempool_free(element: *mut c_void, pool: *mut c_void) {
    let fp = frame_pointer();
    ensure_init();
    if element.is_null() {
        return;
    }
    let Some(pool) = pool_of(pool, fp) else {
        return;
    };
    let kind = element_kind(pool);
    let t = enter(|| track(fp)).unwrap_or_default();
    let guard = POOLS.lock();
    if pool.curr_nr < u64::from(pool.min_nr) {
        match HEAP.pool_poison(element as usize, kind, &t) {
            Ok(()) => {
                // SAFETY: `curr_nr < min_nr` slots are used; this one is free.
                unsafe { *reserve(pool).add(pool.curr_nr as usize) = element as usize };
                pool.curr_nr += 1;
            }
            Err(e) => {
                drop(guard);
                runtime::report_free(element as usize, e == FreeError::Double, fp);
            }
        }
        return;
    }
    drop(guard);
    free_kind(element as usize, kind, fp);
}

/// `void mempool_destroy(mempool_t *pool)`: frees the reserve and the pool.
#[unsafe(no_mangle)]
pub extern "C" fn mempool_destroy(pool_ptr: *mut c_void) {
    let fp = frame_pointer();
    ensure_init();
    if pool_ptr.is_null() {
        return;
    }
    let Some(pool) = pool_of(pool_ptr, fp) else {
        return;
    };
    let t = enter(|| track(fp)).unwrap_or_default();
    let kind = element_kind(pool);
    {
        let _guard = POOLS.lock();
        while pool.curr_nr > 0 {
            pool.curr_nr -= 1;
            // SAFETY: the reserve holds `curr_nr + 1` elements.
            let e = unsafe { *reserve(pool).add(pool.curr_nr as usize) };
            if HEAP.pool_unpoison(e, &t) {
                let _ = HEAP.free(e, kind, &t);
            }
        }
        pool.magic = 0;
    }
    free_kind(pool_ptr as usize, FreeKind::Kmalloc, fp);
}
