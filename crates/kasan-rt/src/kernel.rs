//! Linux's slab-cache and mempool APIs (`kmem_cache_*`, `mempool_*`) for C
//! programs, over the kasan-slab heap.
//!
//! A `struct kmem_cache *` is a small kmalloc object naming the heap's cache (slot
//! and generation), so using a destroyed cache is a use-after-free of that object,
//! reported as Linux's `kasan_check_byte` would; a NULL cache is read as Linux's
//! slab code would read it (`null-ptr-deref`), and a pointer that is no cache at all
//! gets one error line. A call racing the cache's destruction is reported as the
//! use-after-free it is. A `mempool_t *` is a kmalloc object holding the pool's
//! reserve; elements in the reserve are poisoned (Linux's
//! `kasan_mempool_poison_object`), so touching or freeing them again is reported. A
//! pool handle is checked as a cache handle is: NULL (except to `mempool_destroy`) is a
//! `null-ptr-deref`, a destroyed pool a `slab-use-after-free`, anything else one error
//! line.
#![allow(unsafe_code)]

use core::ffi::{c_char, c_void, CStr};
use core::ptr;

use kasan_core::platform::Platform;
use kasan_core::report::Describe;
use kasan_core::sync::SpinLock;
use kasan_hosted::task::frame_pointer;
use kasan_hosted::{output, HostedPlatform};
use kasan_slab::cache::Ctor;
use kasan_slab::heap::CacheId;
use kasan_slab::{AllocError, DestroyError, FreeError, FreeKind};

use crate::alloc_api::{alloc_with, alloc_with_result, free_kind, warn_busy};
use crate::runtime::{self, ensure_init, enter, format_into, track};

const CACHE_MAGIC: u64 = 0x6b6d_656d_6361_6368; // "kmemcach"
const POOL_MAGIC: u64 = 0x6d65_6d70_6f6f_6c21; // "mempool!"
const GFP_ZERO: u32 = 0x100;

/// What a `struct kmem_cache *` points at.
#[repr(C)]
struct CacheHandle {
    magic: u64,
    /// [`CacheId::to_bits`].
    id: u64,
}

/// Validates a cache handle for the API function `what` and returns its cache. As
/// Linux reads `s->...` first: a NULL or freed handle is reported by the one-byte
/// read check (`null-ptr-deref`, `slab-use-after-free`); a readable pointer that is
/// not a handle gets one error line naming the caller.
#[inline(always)]
fn cache_of(s: *const c_void, what: &str, fp: usize) -> Option<CacheId> {
    let s = s as usize;
    if !runtime::check(s, 1, false, fp) || s == 0 {
        return None;
    }
    let live_handle =
        crate::with_heap!(h => h.usable_size(s)) == Some(core::mem::size_of::<CacheHandle>());
    // SAFETY: a live heap object exactly the size of a handle.
    let handle = live_handle.then(|| unsafe { &*(s as *const CacheHandle) });
    match handle {
        Some(h) if h.magic == CACHE_MAGIC => Some(CacheId::from_bits(h.id)),
        // Freed between the check and the lookup (a destroy racing this call).
        _ if crate::with_heap!(h => h.object(s))
            .is_some_and(|o| o.freed && o.object == runtime::untag(s)) =>
        {
            report_destroyed(s as *const c_void, fp);
            None
        }
        _ => {
            warn_with_caller(
                format_args!("kasan: {what}: {s:#x} is not a cache made by kmem_cache_create"),
                fp,
            );
            None
        }
    }
}

/// A call that found its cache destroyed under it (another thread's
/// `kmem_cache_destroy` ran between the handle check and the heap): the handle is
/// freed at once after the cache dies, so wait for that and report the read of it
/// as the use-after-free it is. Inlined, as every helper given `fp` that may sit in
/// tail position (a tail call would hand the entry point's frame to it).
#[inline(always)]
fn report_destroyed(s: *const c_void, fp: usize) {
    for _ in 0..10_000 {
        if !runtime::check(s as usize, 1, false, fp) {
            return;
        }
        // SAFETY: sched_yield has no preconditions.
        unsafe { libc::sched_yield() };
    }
}

/// Turns a heap result for cache `s` into the pointer returned to C.
#[inline(always)]
fn cache_result(s: *const c_void, r: Result<usize, AllocError>, fp: usize) -> *mut c_void {
    match r {
        Ok(p) => p as *mut c_void,
        Err(AllocError::Destroyed) => {
            report_destroyed(s, fp);
            ptr::null_mut()
        }
        Err(AllocError::Busy) => {
            warn_busy("kmem_cache_alloc");
            ptr::null_mut()
        }
        Err(AllocError::Invalid | AllocError::OutOfMemory) => ptr::null_mut(),
    }
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
    let created = runtime::entry(
        || crate::with_heap!(h => h.cache_create(name, size as usize, align as usize, flags as u32, ctor)),
    );
    let index = match created {
        Ok(id) => id,
        Err(AllocError::Busy) => {
            warn_busy("kmem_cache_create");
            return ptr::null_mut();
        }
        Err(_) => return ptr::null_mut(),
    };
    let h = alloc_with(
        fp,
        |t| crate::with_heap!(h => h.alloc(core::mem::size_of::<CacheHandle>(), 16, false, t)),
    );
    if h.is_null() {
        let _ = runtime::entry(|| crate::with_heap!(h => h.cache_destroy(index)));
        return ptr::null_mut();
    }
    // SAFETY: `h` is a fresh heap object of the handle's size.
    unsafe {
        (h as *mut CacheHandle).write(CacheHandle {
            magic: CACHE_MAGIC,
            id: index.to_bits(),
        })
    };
    h
}

/// `void *kmem_cache_alloc(struct kmem_cache *s, gfp_t flags)`.
#[unsafe(no_mangle)]
pub extern "C" fn kmem_cache_alloc(s: *mut c_void, flags: u32) -> *mut c_void {
    let fp = frame_pointer();
    ensure_init();
    cache_alloc(s, flags & GFP_ZERO != 0, "kmem_cache_alloc", fp)
}

/// Inlined: a tail call would give the entry point's frame (`fp`) to this one.
#[inline(always)]
fn cache_alloc(s: *const c_void, zero: bool, what: &str, fp: usize) -> *mut c_void {
    match cache_of(s, what, fp) {
        Some(id) => cache_result(
            s,
            alloc_with_result(fp, |t| crate::with_heap!(h => h.cache_alloc(id, zero, t))),
            fp,
        ),
        None => ptr::null_mut(),
    }
}

/// `void *kmem_cache_zalloc(struct kmem_cache *s, gfp_t flags)`.
#[unsafe(no_mangle)]
pub extern "C" fn kmem_cache_zalloc(s: *mut c_void, _flags: u32) -> *mut c_void {
    let fp = frame_pointer();
    ensure_init();
    cache_alloc(s, true, "kmem_cache_zalloc", fp)
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
    if let Some(id) = cache_of(s, "kmem_cache_free", fp) {
        let kind = FreeKind::Cache(id.index);
        if runtime::config().slub_rcu_debug
            && crate::with_heap!(h => h.cache_typesafe_by_rcu(id.index))
        {
            defer_free(p as usize, kind, fp);
        } else {
            free_kind(p as usize, kind, fp);
        }
    }
}

/// A free of a `SLAB_TYPESAFE_BY_RCU` object waiting for its grace period.
#[repr(C)]
struct DeferredFree {
    head: crate::rcu::RcuHead,
    addr: usize,
    kind: FreeKind,
}

/// Linux's `CONFIG_SLUB_RCU_DEBUG`: an object of a `SLAB_TYPESAFE_BY_RCU` cache stays
/// accessible until a grace period has passed, then is freed and poisoned as any
/// other (from the RCU callback, whose stack is its free track, as in Linux). A bad
/// free is reported now, before the wait (`kasan_slab_pre_free`).
fn defer_free(addr: usize, kind: FreeKind, fp: usize) {
    if let Err(e) = crate::with_heap!(h => h.free_check(addr, kind)) {
        runtime::report_free(addr, e == FreeError::Double, fp);
        return;
    }
    let node = Box::into_raw(Box::new(DeferredFree {
        head: crate::rcu::RcuHead::new(),
        addr,
        kind,
    }));
    crate::rcu::call_rcu_internal(node.cast(), Some(free_after_grace_period));
}

unsafe extern "C" fn free_after_grace_period(head: *mut crate::rcu::RcuHead) {
    // SAFETY: the node defer_free queued (its head is the first field), ours now.
    let node = unsafe { Box::from_raw(head.cast::<DeferredFree>()) };
    let fp = frame_pointer();
    let r = runtime::entry(|| {
        let t = enter(|| track(fp)).unwrap_or_default();
        crate::with_heap!(h => h.free_after_rcu(node.addr, node.kind, &t))
    });
    if let Err(e) = r {
        runtime::report_free(node.addr, e == FreeError::Double, fp);
    }
}

/// Checks the program's array of `n` pointers at `p` as a `memset` (or `memcpy`
/// source) of `n * sizeof(void *)` bytes would be; false if it was reported.
fn check_array(p: *mut *mut c_void, n: usize, is_write: bool, fp: usize) -> bool {
    let Some(bytes) = n.checked_mul(core::mem::size_of::<usize>()) else {
        runtime::report_access(p as usize, usize::MAX, is_write, fp);
        return false;
    };
    bytes == 0 || runtime::check(p as usize, bytes, is_write, fp)
}

/// `int kmem_cache_alloc_bulk(struct kmem_cache *s, gfp_t flags, size_t n, void **p)`:
/// all `n` objects or none; returns `n` or 0. The array is checked first, as a
/// `memset` of `n` pointers (a short array is reported and the call fails).
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
    let Some(id) = cache_of(s, "kmem_cache_alloc_bulk", fp) else {
        return 0;
    };
    if n > i32::MAX as usize || !check_array(p, n, true, fp) {
        return 0;
    }
    for k in 0..n {
        let r = alloc_with_result(
            fp,
            |t| crate::with_heap!(h => h.cache_alloc(id, flags & GFP_ZERO != 0, t)),
        );
        let obj = cache_result(s, r, fp);
        if obj.is_null() {
            for j in 0..k {
                // SAFETY: slots `0..k` were filled above.
                free_kind(unsafe { *p.add(j) } as usize, FreeKind::Cache(id.index), fp);
            }
            return 0;
        }
        // SAFETY: the caller gave room for `n` pointers (checked above); `k < n`.
        unsafe { *p.add(k) = obj };
    }
    n as i32
}

/// `void kmem_cache_free_bulk(struct kmem_cache *s, size_t n, void **p)`: the array
/// is checked first, as a read of `n` pointers.
///
/// # Safety
///
/// `p` must hold `n` pointers.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kmem_cache_free_bulk(s: *mut c_void, n: usize, p: *mut *mut c_void) {
    let fp = frame_pointer();
    ensure_init();
    let Some(id) = cache_of(s, "kmem_cache_free_bulk", fp) else {
        return;
    };
    if !check_array(p, n, false, fp) {
        return;
    }
    for k in 0..n {
        // SAFETY: the caller promises `n` pointers (checked above).
        let obj = unsafe { *p.add(k) };
        if !obj.is_null() {
            free_kind(obj as usize, FreeKind::Cache(id.index), fp);
        }
    }
}

/// Prints a one-line warning naming the caller, as Linux's `pr_err(... %pS ...)`.
pub(crate) fn warn_with_caller(what: core::fmt::Arguments<'_>, fp: usize) {
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
    let mut buf = [0u8; 600];
    let caller = core::str::from_utf8(&name_buf[..name_len]).unwrap_or("?");
    output::write_message::<2048>(format_into(
        &mut buf,
        format_args!("{what} when called from {caller}\n"),
    ));
}

/// `void kmem_cache_destroy(struct kmem_cache *s)`: NULL is ignored (as Linux); a
/// destroyed cache is a freed object (a second destroy reports
/// `slab-use-after-free`); a cache with live objects is reported and left in place,
/// as Linux does. Objects of the cache still in quarantine keep their memory until
/// the quarantine lets them go; the cost is the cache's own runs.
#[unsafe(no_mangle)]
pub extern "C" fn kmem_cache_destroy(s: *mut c_void) {
    let fp = frame_pointer();
    ensure_init();
    if s.is_null() {
        return;
    }
    let Some(id) = cache_of(s, "kmem_cache_destroy", fp) else {
        return;
    };
    let name = crate::with_heap!(h => h.cache_name(id.index))
        .unwrap_or(kasan_core::report::Name::new("?"));
    if runtime::config().slub_rcu_debug && crate::with_heap!(h => h.cache_typesafe_by_rcu(id.index))
    {
        // Deferred frees of its objects first (Linux's kmem_cache_destroy does
        // rcu_barrier for these caches).
        crate::rcu::rcu_barrier();
    }
    match runtime::entry(|| crate::with_heap!(h => h.cache_destroy(id))) {
        Ok(()) => free_kind(s as usize, FreeKind::Kmalloc, fp),
        // Another thread destroyed it since the handle was checked.
        Err(DestroyError::NoCache) => report_destroyed(s, fp),
        Err(DestroyError::LiveObjects(n)) => warn_with_caller(
            format_args!(
                "kmem_cache_destroy {}: Slab cache still has objects ({n} allocated)",
                name.as_str()
            ),
            fp,
        ),
        Err(DestroyError::Busy) => warn_busy("kmem_cache_destroy"),
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

/// Validates a pool handle for the API function `what`, as [`cache_of`] does a cache:
/// Linux reads `pool->...` first, so a NULL or destroyed pool is reported by the one-byte
/// read check (`null-ptr-deref`, `slab-use-after-free`), and a readable pointer that is
/// no pool gets one error line naming the caller. Inlined, as `fp` is the entry point's.
#[inline(always)]
fn pool_of(pool: *mut c_void, what: &str, fp: usize) -> Option<&'static mut Pool> {
    let p = pool as usize;
    if !runtime::check(p, 1, false, fp) || p == 0 {
        return None;
    }
    let live = crate::with_heap!(h => h.usable_size(p))
        .filter(|&size| size >= core::mem::size_of::<Pool>());
    // SAFETY: a live heap object at least a header long; the magic and size checks
    // below reject anything else.
    let found = live.map(|size| (unsafe { &mut *(p as *mut Pool) }, size));
    match found {
        Some((pool, size))
            if pool.magic == POOL_MAGIC
                && core::mem::size_of::<Pool>() + pool.min_nr as usize * 8 <= size
                && pool.curr_nr <= u64::from(pool.min_nr) =>
        {
            Some(pool)
        }
        // Freed between the check and the lookup (a destroy racing this call).
        _ if crate::with_heap!(h => h.object(p))
            .is_some_and(|o| o.freed && o.object == runtime::untag(p)) =>
        {
            report_destroyed(pool, fp);
            None
        }
        _ => {
            warn_with_caller(
                format_args!("kasan: {what}: {p:#x} is not a pool made by mempool_create"),
                fp,
            );
            None
        }
    }
}

fn reserve(pool: &mut Pool) -> *mut usize {
    (pool as *mut Pool as usize + core::mem::size_of::<Pool>()) as *mut usize
}

fn element_kind(pool: &Pool) -> FreeKind {
    match pool.kind {
        PoolKind::Kmalloc => FreeKind::Kmalloc,
        PoolKind::Slab => FreeKind::Cache(CacheId::from_bits(pool.arg).index),
        PoolKind::Pages => FreeKind::Pages(pool.arg as u32),
    }
}

fn pool_alloc_element(pool: &Pool, fp: usize) -> *mut c_void {
    match pool.kind {
        PoolKind::Kmalloc => alloc_with(
            fp,
            |t| crate::with_heap!(h => h.alloc(pool.arg as usize, 16, false, t)),
        ),
        PoolKind::Slab => alloc_with(
            fp,
            |t| crate::with_heap!(h => h.cache_alloc(CacheId::from_bits(pool.arg), false, t)),
        ),
        PoolKind::Pages => alloc_with(
            fp,
            |t| crate::with_heap!(h => h.alloc_pages(pool.arg as u32, kasan_slab::heap::GFP_KERNEL, false, t)),
        ),
    }
}

fn create_pool(kind: PoolKind, min_nr: i32, arg: u64, fp: usize) -> *mut c_void {
    ensure_init();
    if !(1..=1 << 20).contains(&min_nr) {
        return ptr::null_mut();
    }
    let bytes = core::mem::size_of::<Pool>() + min_nr as usize * 8;
    let p = alloc_with(fp, |t| crate::with_heap!(h => h.alloc(bytes, 16, true, t)));
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
            || crate::with_heap!(h => h.pool_poison(e as usize, element_kind(pool), &t)).is_err()
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
    match cache_of(cache, "mempool_create_slab_pool", fp) {
        Some(id) => create_pool(PoolKind::Slab, min_nr, id.to_bits(), fp),
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
    let Some(pool) = pool_of(pool, "mempool_alloc", fp) else {
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
    let Some(pool) = pool_of(pool, "mempool_alloc_preallocated", fp) else {
        return ptr::null_mut();
    };
    take_reserved(pool, fp)
}

fn take_reserved(pool: &mut Pool, fp: usize) -> *mut c_void {
    let t = enter(|| track(fp)).unwrap_or_default();
    // Nested in this thread's own pool operation (a signal handler): no reserve.
    let Some(_guard) = POOLS.lock_unless_held() else {
        return ptr::null_mut();
    };
    while pool.curr_nr > 0 {
        pool.curr_nr -= 1;
        // SAFETY: the reserve holds `curr_nr + 1` elements.
        let e = unsafe { *reserve(pool).add(pool.curr_nr as usize) };
        if crate::with_heap!(h => h.pool_unpoison(e, &t)) {
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
    let Some(pool) = pool_of(pool, "mempool_free", fp) else {
        return;
    };
    let kind = element_kind(pool);
    let t = enter(|| track(fp)).unwrap_or_default();
    let Some(guard) = POOLS.lock_unless_held() else {
        // Nested in this thread's own pool operation: freed, not pooled.
        free_kind(element as usize, kind, fp);
        return;
    };
    if pool.curr_nr < u64::from(pool.min_nr) {
        match crate::with_heap!(h => h.pool_poison(element as usize, kind, &t)) {
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
    let Some(pool) = pool_of(pool_ptr, "mempool_destroy", fp) else {
        return;
    };
    let t = enter(|| track(fp)).unwrap_or_default();
    let kind = element_kind(pool);
    {
        let Some(_guard) = POOLS.lock_unless_held() else {
            warn_busy("mempool_destroy");
            return;
        };
        while pool.curr_nr > 0 {
            pool.curr_nr -= 1;
            // SAFETY: the reserve holds `curr_nr + 1` elements.
            let e = unsafe { *reserve(pool).add(pool.curr_nr as usize) };
            if crate::with_heap!(h => h.pool_unpoison(e, &t)) {
                let _ = crate::with_heap!(h => h.free(e, kind, &t));
            }
        }
        pool.magic = 0;
    }
    free_kind(pool_ptr as usize, FreeKind::Kmalloc, fp);
}
