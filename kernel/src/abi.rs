//! The C ABI of the kernel: the compiler's `__asan_*` entry points (gcc 12
//! `-fsanitize=kernel-address`, inline: the report calls, globals, allocas), the
//! kernel API the C code calls (kmalloc, kmem_cache, pages, vmalloc, mempool,
//! call_rcu, the checked mem functions) and the test harness's hooks. Each entry
//! reads its frame pointer, so the first saved return address is the caller.
#![allow(unsafe_code)]
// The entry points are C's: they take C's pointers under C's contract (the kernel API
// the C code is written against), as Linux's do.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

use core::ffi::{c_char, c_void};

use kasan_core::report::Kind;
use kasan_core::shadow::{encoding, round_up};
use kasan_slab::{FreeError, FreeKind};

use crate::io::frame_pointer;
use crate::runtime::{check, config, report, set_disabled, track, HEAP, REPORTER, SHADOW};

macro_rules! sized {
    ($($load:ident $store:ident $rload:ident $rstore:ident = $n:literal;)*) => {$(
        /// Outline check of a load of this size.
        #[unsafe(no_mangle)]
        pub extern "C" fn $load(addr: usize) { check(addr, $n, false, frame_pointer()); }
        /// Outline check of a store of this size.
        #[unsafe(no_mangle)]
        pub extern "C" fn $store(addr: usize) { check(addr, $n, true, frame_pointer()); }
        /// The inline check of a load failed.
        #[unsafe(no_mangle)]
        pub extern "C" fn $rload(addr: usize) { report(Kind::Access, addr, $n, false, frame_pointer()); }
        /// The inline check of a store failed.
        #[unsafe(no_mangle)]
        pub extern "C" fn $rstore(addr: usize) { report(Kind::Access, addr, $n, true, frame_pointer()); }
    )*};
}

sized! {
    __asan_load1_noabort __asan_store1_noabort __asan_report_load1_noabort __asan_report_store1_noabort = 1;
    __asan_load2_noabort __asan_store2_noabort __asan_report_load2_noabort __asan_report_store2_noabort = 2;
    __asan_load4_noabort __asan_store4_noabort __asan_report_load4_noabort __asan_report_store4_noabort = 4;
    __asan_load8_noabort __asan_store8_noabort __asan_report_load8_noabort __asan_report_store8_noabort = 8;
    __asan_load16_noabort __asan_store16_noabort __asan_report_load16_noabort __asan_report_store16_noabort = 16;
}

/// Outline check of an odd-sized load.
#[unsafe(no_mangle)]
pub extern "C" fn __asan_loadN_noabort(addr: usize, size: usize) {
    check(addr, size, false, frame_pointer());
}
/// Outline check of an odd-sized store.
#[unsafe(no_mangle)]
pub extern "C" fn __asan_storeN_noabort(addr: usize, size: usize) {
    check(addr, size, true, frame_pointer());
}
/// The inline check of an odd-sized load failed.
#[unsafe(no_mangle)]
pub extern "C" fn __asan_report_load_n_noabort(addr: usize, size: usize) {
    report(Kind::Access, addr, size, false, frame_pointer());
}
/// The inline check of an odd-sized store failed.
#[unsafe(no_mangle)]
pub extern "C" fn __asan_report_store_n_noabort(addr: usize, size: usize) {
    report(Kind::Access, addr, size, true, frame_pointer());
}

/// `struct kasan_global` (ABI v5; 64 bytes).
#[repr(C)]
#[derive(Debug)]
pub struct Global {
    beg: usize,
    size: usize,
    size_with_redzone: usize,
    name: *const u8,
    module_name: *const u8,
    has_dynamic_init: usize,
    location: *const c_void,
    odr_indicator: usize,
}

/// Unpoisons each global and poisons its redzone.
#[unsafe(no_mangle)]
pub extern "C" fn __asan_register_globals(g: *const Global, n: usize) {
    if g.is_null() || n == 0 {
        return;
    }
    // SAFETY: the compiler passes an array of `n` descriptors in the image's data.
    let globals = unsafe { core::slice::from_raw_parts(g, n) };
    for g in globals {
        SHADOW.unpoison(g.beg, g.size);
        let rz = g.beg + round_up(g.size);
        SHADOW.poison(
            rz,
            (g.beg + g.size_with_redzone).saturating_sub(rz),
            encoding::GLOBAL_REDZONE,
        );
    }
}

/// The kernel image never goes away: nothing to do.
#[unsafe(no_mangle)]
pub extern "C" fn __asan_unregister_globals(_g: *const Global, _n: usize) {}

/// The constructor rustc's address sanitizer emits: the runtime is up already.
#[unsafe(no_mangle)]
pub extern "C" fn __asan_init() {}

/// rustc's instrumentation version handshake (ASan ABI v8, whose inline report
/// calls and alloca entries this runtime exports).
#[unsafe(no_mangle)]
pub extern "C" fn __asan_version_mismatch_check_v8() {}

/// Before a call that does not return: nothing is unwound in this kernel.
#[unsafe(no_mangle)]
pub extern "C" fn __asan_handle_no_return() {}

/// Poisons the redzones around a dynamic alloca.
#[unsafe(no_mangle)]
pub extern "C" fn __asan_alloca_poison(addr: usize, size: usize) {
    let rz = encoding::ALLOCA_REDZONE_SIZE;
    let up8 = round_up(size);
    let up32 = size.next_multiple_of(rz);
    SHADOW.poison(addr.wrapping_sub(rz), rz, encoding::ALLOCA_LEFT);
    SHADOW.unpoison(addr, size);
    SHADOW.poison(addr + up8, up32 - up8 + rz, encoding::ALLOCA_RIGHT);
}

/// Unpoisons the allocas of a frame being left.
#[unsafe(no_mangle)]
pub extern "C" fn __asan_allocas_unpoison(top: usize, bottom: usize) {
    if top != 0 && top <= bottom && bottom - top < (1 << 20) {
        SHADOW.poison(top, bottom - top, 0);
    }
}

fn bad_free(r: Result<(), FreeError>, addr: usize, fp: usize) {
    match r {
        Ok(()) => {}
        Err(FreeError::Double) => {
            report(Kind::DoubleFree, addr, 0, true, fp);
        }
        Err(FreeError::Invalid) => {
            report(Kind::InvalidFree, addr, 0, true, fp);
        }
    }
}

const GFP_ZERO: u32 = 0x100;

fn ptr(r: Result<usize, kasan_slab::AllocError>) -> *mut c_void {
    r.map_or(core::ptr::null_mut(), |p| p as *mut c_void)
}

/// `kmalloc`.
#[unsafe(no_mangle)]
pub extern "C" fn kmalloc(size: usize, flags: u32) -> *mut c_void {
    let t = track(frame_pointer());
    ptr(HEAP.alloc(size, 8, flags & GFP_ZERO != 0, &t))
}

/// `kzalloc`.
#[unsafe(no_mangle)]
pub extern "C" fn kzalloc(size: usize, _flags: u32) -> *mut c_void {
    let t = track(frame_pointer());
    ptr(HEAP.alloc(size, 8, true, &t))
}

/// `kfree`.
#[unsafe(no_mangle)]
pub extern "C" fn kfree(p: *const c_void) {
    let fp = frame_pointer();
    if p.is_null() {
        return;
    }
    let t = track(fp);
    bad_free(HEAP.free(p as usize, FreeKind::Kmalloc, &t), p as usize, fp);
}

/// `kfree_sensitive`: the object's memory is cleared (checked as a one-byte read
/// first, as Linux's `ksize` check), then freed.
#[unsafe(no_mangle)]
pub extern "C" fn kfree_sensitive(p: *const c_void) {
    let fp = frame_pointer();
    if p.is_null() {
        return;
    }
    let addr = p as usize;
    if !check(addr, 1, false, fp) {
        // Reported (use-after-free); the free below reports the double free.
    } else if let Some(n) = HEAP.usable_size(addr) {
        // SAFETY: a live object of `n` usable bytes.
        unsafe { core::ptr::write_bytes(addr as *mut u8, 0, n) };
    }
    let t = track(fp);
    bad_free(HEAP.free(addr, FreeKind::Kmalloc, &t), addr, fp);
}

/// A cache handle given to C: the cache's id bits, in a kmalloc object.
#[unsafe(no_mangle)]
pub extern "C" fn kmem_cache_create(
    name: *const c_char,
    size: u32,
    align: u32,
    flags: u64,
    _ctor: *const c_void,
) -> *mut c_void {
    // SAFETY: C passes a NUL-terminated name.
    let name = unsafe { core::ffi::CStr::from_ptr(name) }
        .to_str()
        .unwrap_or("?");
    let Ok(id) = HEAP.cache_create(
        name,
        size as usize,
        (align as usize).max(8),
        flags as u32,
        None,
    ) else {
        return core::ptr::null_mut();
    };
    let t = track(frame_pointer());
    let h = ptr(HEAP.alloc(8, 8, false, &t));
    if !h.is_null() {
        // SAFETY: a fresh 8-byte kmalloc object.
        unsafe { (h as *mut u64).write(id.to_bits()) };
    }
    h
}

fn cache_of(s: *const c_void) -> Option<kasan_slab::heap::CacheId> {
    if s.is_null() || !check(s as usize, 8, false, frame_pointer()) {
        return None;
    }
    // SAFETY: a live handle made by kmem_cache_create (checked readable just now).
    Some(kasan_slab::heap::CacheId::from_bits(unsafe {
        *(s as *const u64)
    }))
}

/// `kmem_cache_alloc`.
#[unsafe(no_mangle)]
pub extern "C" fn kmem_cache_alloc(s: *const c_void, flags: u32) -> *mut c_void {
    let fp = frame_pointer();
    let Some(id) = cache_of(s) else {
        return core::ptr::null_mut();
    };
    let t = track(fp);
    ptr(HEAP.cache_alloc(id, flags & GFP_ZERO != 0, &t))
}

/// `kmem_cache_free`.
#[unsafe(no_mangle)]
pub extern "C" fn kmem_cache_free(s: *const c_void, p: *const c_void) {
    let fp = frame_pointer();
    let Some(id) = cache_of(s) else { return };
    let t = track(fp);
    bad_free(
        HEAP.free(p as usize, FreeKind::Cache(id.index), &t),
        p as usize,
        fp,
    );
}

/// `kmem_cache_destroy`.
#[unsafe(no_mangle)]
pub extern "C" fn kmem_cache_destroy(s: *const c_void) {
    let Some(id) = cache_of(s) else { return };
    let _ = HEAP.cache_destroy(id);
    kfree(s);
}

/// `__get_free_pages`.
#[unsafe(no_mangle)]
pub extern "C" fn __get_free_pages(flags: u32, order: u32) -> usize {
    let t = track(frame_pointer());
    HEAP.alloc_pages(order, flags, flags & GFP_ZERO != 0, &t)
        .unwrap_or(0)
}

/// `free_pages`.
#[unsafe(no_mangle)]
pub extern "C" fn free_pages(addr: usize, order: u32) {
    let fp = frame_pointer();
    if addr == 0 {
        return;
    }
    let t = track(fp);
    bad_free(HEAP.free(addr, FreeKind::Pages(order), &t), addr, fp);
}

/// `vmalloc`.
#[unsafe(no_mangle)]
pub extern "C" fn vmalloc(size: usize) -> *mut c_void {
    let t = track(frame_pointer());
    ptr(HEAP.alloc_vmalloc(size, false, &t))
}

/// `vfree`.
#[unsafe(no_mangle)]
pub extern "C" fn vfree(p: *const c_void) {
    let fp = frame_pointer();
    if p.is_null() {
        return;
    }
    let t = track(fp);
    bad_free(HEAP.free(p as usize, FreeKind::Vmalloc, &t), p as usize, fp);
}

/// `vm_unmap_aliases`: purge the lazily freed vmalloc areas now.
#[unsafe(no_mangle)]
pub extern "C" fn vm_unmap_aliases() {
    HEAP.purge_vmalloc();
}

/// A mempool of kmalloc elements: up to 16 reserved, poisoned while pooled.
#[repr(C)]
#[derive(Debug)]
pub struct Mempool {
    size: usize,
    count: usize,
    elems: [usize; 16],
}

/// `mempool_create_kmalloc_pool`.
#[unsafe(no_mangle)]
pub extern "C" fn mempool_create_kmalloc_pool(min_nr: i32, size: usize) -> *mut Mempool {
    let fp = frame_pointer();
    let n = (min_nr.max(0) as usize).min(16);
    let t = track(fp);
    let Ok(pool) = HEAP.alloc(core::mem::size_of::<Mempool>(), 8, true, &t) else {
        return core::ptr::null_mut();
    };
    let pool = pool as *mut Mempool;
    // SAFETY: a fresh zeroed kmalloc object of the pool's size.
    let p = unsafe { &mut *pool };
    p.size = size;
    for _ in 0..n {
        let t = track(fp);
        let Ok(e) = HEAP.alloc(size, 8, false, &t) else {
            break;
        };
        let t = track(fp);
        if HEAP.pool_poison(e, FreeKind::Kmalloc, &t).is_ok() {
            p.elems[p.count] = e;
            p.count += 1;
        }
    }
    pool
}

/// `mempool_alloc_preallocated`: a reserved element, or NULL.
#[unsafe(no_mangle)]
pub extern "C" fn mempool_alloc_preallocated(pool: *mut Mempool) -> *mut c_void {
    let fp = frame_pointer();
    // SAFETY: a pool made by mempool_create_kmalloc_pool.
    let p = unsafe { &mut *pool };
    if p.count == 0 {
        return core::ptr::null_mut();
    }
    p.count -= 1;
    let e = p.elems[p.count];
    let t = track(fp);
    HEAP.pool_unpoison(e, &t);
    e as *mut c_void
}

/// `mempool_free`: back into the reserve when it has room, else freed.
#[unsafe(no_mangle)]
pub extern "C" fn mempool_free(elem: *mut c_void, pool: *mut Mempool) {
    let fp = frame_pointer();
    if elem.is_null() {
        return;
    }
    // SAFETY: a pool made by mempool_create_kmalloc_pool.
    let p = unsafe { &mut *pool };
    let t = track(fp);
    if p.count < p.elems.len() {
        match HEAP.pool_poison(elem as usize, FreeKind::Kmalloc, &t) {
            Ok(()) => {
                p.elems[p.count] = elem as usize;
                p.count += 1;
            }
            r => bad_free(r, elem as usize, fp),
        }
    } else {
        bad_free(
            HEAP.free(elem as usize, FreeKind::Kmalloc, &t),
            elem as usize,
            fp,
        );
    }
}

/// `mempool_destroy`: the reserve is freed.
#[unsafe(no_mangle)]
pub extern "C" fn mempool_destroy(pool: *mut Mempool) {
    let fp = frame_pointer();
    if pool.is_null() {
        return;
    }
    // SAFETY: a pool made by mempool_create_kmalloc_pool.
    let p = unsafe { &mut *pool };
    while p.count > 0 {
        p.count -= 1;
        let e = p.elems[p.count];
        let t = track(fp);
        HEAP.pool_unpoison(e, &t);
        let t = track(fp);
        let _ = HEAP.free(e, FreeKind::Kmalloc, &t);
    }
    let t = track(fp);
    let _ = HEAP.free(pool as usize, FreeKind::Kmalloc, &t);
}

/// `struct rcu_head`.
#[repr(C)]
#[derive(Debug)]
pub struct RcuHead {
    next: *mut RcuHead,
    func: Option<extern "C" fn(*mut RcuHead)>,
}

struct RcuList(*mut RcuHead, *mut RcuHead);
// SAFETY: the list is only touched under its lock.
unsafe impl Send for RcuList {}

static RCU: kasan_core::sync::SpinLock<RcuList> =
    kasan_core::sync::SpinLock::new(RcuList(core::ptr::null_mut(), core::ptr::null_mut()));

/// `call_rcu`: queued until the next grace period (`rcu_barrier`), the caller's
/// stack recorded as the object's aux stack (Linux's `kasan_record_aux_stack`).
#[unsafe(no_mangle)]
pub extern "C" fn call_rcu(head: *mut RcuHead, func: extern "C" fn(*mut RcuHead)) {
    let t = track(frame_pointer());
    HEAP.record_aux(head as usize, t.stack);
    // SAFETY: the caller hands us the head until its callback runs.
    unsafe {
        (*head).next = core::ptr::null_mut();
        (*head).func = Some(func);
    }
    let mut l = RCU.lock();
    if l.1.is_null() {
        l.0 = head;
    } else {
        // SAFETY: the tail is a queued head, ours until its callback runs.
        unsafe { (*l.1).next = head };
    }
    l.1 = head;
}

/// `rcu_barrier`: one CPU without preemption has passed a grace period at every
/// call; runs every queued callback.
#[unsafe(no_mangle)]
pub extern "C" fn rcu_barrier() {
    loop {
        let head = {
            let mut l = RCU.lock();
            let h = l.0;
            if h.is_null() {
                return;
            }
            // SAFETY: a queued head, ours until its callback runs.
            l.0 = unsafe { (*h).next };
            if l.0.is_null() {
                l.1 = core::ptr::null_mut();
            }
            h
        };
        // SAFETY: queued by call_rcu with its callback; read before the callback
        // (which may free the head) runs.
        if let Some(f) = unsafe { (*head).func } {
            f(head);
        }
    }
}

/// Linux's instrumented `memset`: the range is checked first.
#[unsafe(no_mangle)]
pub extern "C" fn kasan_memset(s: *mut u8, c: i32, n: usize) -> *mut u8 {
    if !check(s as usize, n, true, frame_pointer()) {
        return s;
    }
    // SAFETY: the range was checked accessible.
    unsafe { core::ptr::write_bytes(s, c as u8, n) };
    s
}

/// Linux's instrumented `memcpy`.
#[unsafe(no_mangle)]
pub extern "C" fn kasan_memcpy(d: *mut u8, s: *const u8, n: usize) -> *mut u8 {
    let fp = frame_pointer();
    if !check(s as usize, n, false, fp) || !check(d as usize, n, true, fp) {
        return d;
    }
    // SAFETY: both ranges were checked accessible.
    unsafe { core::ptr::copy(s, d, n) };
    d
}

/// Linux's instrumented `memmove`.
#[unsafe(no_mangle)]
pub extern "C" fn kasan_memmove(d: *mut u8, s: *const u8, n: usize) -> *mut u8 {
    kasan_memcpy(d, s, n)
}

/// Real (private) shadow pages now, printed with `label`.
#[unsafe(no_mangle)]
pub extern "C" fn kasan_shadow_real_pages(label: *const c_char) -> i64 {
    let n = crate::mm::SHADOW_REAL.load(core::sync::atomic::Ordering::Relaxed);
    crate::say(format_args!(
        "kasan: shadow: {} real pages ({} KiB) {}\n",
        n,
        n * 4,
        c_str(label)
    ));
    n as i64
}

/// Reports printed so far.
#[unsafe(no_mangle)]
pub extern "C" fn kasan_reports_count() -> i32 {
    REPORTER.count() as i32
}

/// The newest report's bug type, NUL-terminated (NULL before the first).
#[unsafe(no_mangle)]
pub extern "C" fn kasan_last_bug_type() -> *const c_char {
    crate::suite::c_string(REPORTER.last_bug_type()).cast()
}

/// Whether KASAN is on (`kasan=off` on the command line turns it off).
#[unsafe(no_mangle)]
pub extern "C" fn kasan_enabled() -> bool {
    config().enabled
}

/// `kasan_disable_current`.
#[unsafe(no_mangle)]
pub extern "C" fn kasan_disable_current() {
    set_disabled(true);
}

/// `kasan_enable_current`.
#[unsafe(no_mangle)]
pub extern "C" fn kasan_enable_current() {
    set_disabled(false);
}

/// Prints a NUL-terminated string on the console.
#[unsafe(no_mangle)]
pub extern "C" fn kputs(s: *const c_char) {
    // SAFETY: C passes a NUL-terminated string.
    let s = unsafe { core::ffi::CStr::from_ptr(s) };
    crate::io::serial_write(s.to_bytes());
}

/// A C string's text (for the harness).
pub fn c_str<'a>(s: *const c_char) -> &'a str {
    if s.is_null() {
        return "";
    }
    // SAFETY: C passes NUL-terminated strings that live in the image (literals).
    unsafe { core::ffi::CStr::from_ptr(s) }
        .to_str()
        .unwrap_or("?")
}

/// A case of the C suite (`struct kunit_case`).
#[repr(C)]
#[derive(Debug)]
pub struct KunitCase {
    /// The case's name.
    pub name: *const c_char,
    /// Its function, given the test.
    pub run: extern "C" fn(*mut c_void),
}

unsafe extern "C" {
    static kasan_kernel_cases: [KunitCase; 0];
    static kasan_kernel_ncases: usize;
    fn kt_guarded_call(f: extern "C" fn(*mut c_void), arg: *mut c_void) -> i32;
    static __init_array_start: [extern "C" fn(); 0];
    static __init_array_end: [extern "C" fn(); 0];
    static kt_recover: u8;
    static mut kt_recover_rsp: usize;
}

/// The C suite's cases.
pub fn cases() -> &'static [KunitCase] {
    // SAFETY: the C file defines the array and its length.
    unsafe {
        core::slice::from_raw_parts(
            core::ptr::addr_of!(kasan_kernel_cases).cast::<KunitCase>(),
            kasan_kernel_ncases,
        )
    }
}

/// Runs `f` so that a fault in it returns here: true when it returned, false when
/// a fault handler sent it to the recovery point.
pub fn guarded(f: extern "C" fn(*mut c_void), arg: *mut c_void) -> bool {
    // SAFETY: kt_guarded_call saves the callee-saved registers and the stack
    // pointer and calls `f(arg)`; the fault handler resumes at kt_recover with them.
    unsafe { kt_guarded_call(f, arg) == 0 }
}

/// Where a fault handler resumes a guarded call: (rip, rsp), if one runs.
pub fn recovery() -> Option<(usize, usize)> {
    // SAFETY: the word is written by kt_guarded_call on this CPU only; reading it
    // from the fault handler of the same CPU sees it.
    let rsp = unsafe { core::ptr::addr_of!(kt_recover_rsp).read_volatile() };
    let rip = core::ptr::addr_of!(kt_recover) as usize;
    (rsp != 0).then_some((rip, rsp))
}

/// Runs the image's constructors (gcc's globals registration).
pub fn run_constructors() {
    // SAFETY: the linker collects the constructors between the two symbols.
    let ctors = unsafe {
        let lo = core::ptr::addr_of!(__init_array_start).cast::<extern "C" fn()>();
        let hi = core::ptr::addr_of!(__init_array_end).cast::<extern "C" fn()>();
        core::slice::from_raw_parts(lo, hi.offset_from(lo) as usize)
    };
    for f in ctors {
        f();
    }
}
