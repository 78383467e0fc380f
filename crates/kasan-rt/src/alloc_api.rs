//! The allocation entry points: the C malloc family (interposed, so libc and the
//! program share one heap) and the kernel-style API of `include/kasan.h`, all served
//! by the kasan-slab heap with alloc/free tracks.
//!
//! Bad frees never reach the heap's structures: they are reported (`invalid-free`,
//! `double-free`) and ignored, and the program goes on.
//!
//! Signal handlers: an allocation nested in this thread's own allocator call (a
//! handler that interrupted `kmalloc`) is served when it needs no lock the thread
//! holds, and otherwise fails with NULL and a rate-limited warning line, as
//! `GFP_ATOMIC` may fail; it never waits for itself. A free nested so is never lost
//! (the heap defers what it cannot do at once).
#![allow(unsafe_code)]

use core::ffi::c_void;
use core::ptr;
use core::sync::atomic::{AtomicUsize, Ordering};

use kasan_hosted::memory::SHADOW;
use kasan_hosted::task::frame_pointer;
use kasan_slab::heap::MIN_ALIGN;
use kasan_slab::{AllocError, FreeError, FreeKind};

use crate::runtime::{self, ensure_init, enter, track};

/// `ZERO_SIZE_PTR`: what `kmalloc(0)` returns.
const ZERO_SIZE_PTR: usize = 16;
/// `__GFP_ZERO`.
const GFP_ZERO: u32 = 0x100;
const PAGE_SIZE: usize = 4096;

fn set_errno(e: i32) {
    // SAFETY: __errno_location returns this thread's errno.
    unsafe { *libc::__errno_location() = e };
}

/// Nested allocations failed so far (see the module docs).
static BUSY_FAILURES: AtomicUsize = AtomicUsize::new(0);

/// The warning for a call that failed because this thread was inside the
/// allocator already: the first ten, then every power of two (rate-limited as
/// Linux's `printk_ratelimited`, but without a clock). Writes one line with no
/// lock, no allocation and no symbolizer, as it runs in a signal handler.
pub(crate) fn warn_busy(what: &str) {
    // Relaxed: a statistic.
    let n = BUSY_FAILURES.fetch_add(1, Ordering::Relaxed) + 1;
    if n > 10 && !n.is_power_of_two() {
        return;
    }
    let mut buf = [0u8; 300];
    kasan_hosted::output::write_message::<1024>(runtime::format_into(
        &mut buf,
        format_args!(
            "kasan: {what} nested in this thread's own allocator call (a signal handler?) failed, as GFP_ATOMIC may ({n} so far)\n"
        ),
    ));
}

/// Poisons (or unpoisons) `[addr, addr + size)` for a program that manages its own
/// memory (`kasan_poison_range` and `__asan_poison_memory_region`, and their
/// unpoison twins, named `what`). A range that wraps or leaves user memory (which
/// the shadow covers) would have the runtime write, or clear, shadow for terabytes
/// of address space: it is refused with one warning line and the program goes on.
pub(crate) fn user_region(what: &str, addr: usize, size: usize, poison: bool) {
    ensure_init();
    if !kasan_hosted::memory::is_user_range(addr, size) {
        let mut buf = [0u8; 200];
        kasan_hosted::output::write_message::<1024>(runtime::format_into(
            &mut buf,
            format_args!("kasan: {what}({addr:#x}, {size}): range outside user memory, ignored\n"),
        ));
        return;
    }
    match (runtime::mode(), poison) {
        (runtime::RunMode::Generic, true) => SHADOW.poison_user(addr, size),
        (runtime::RunMode::Generic, false) => kasan_hosted::memory::unpoison_user(addr, size),
        // Tag modes (design §4.8): poisoning marks the heap granules of the range
        // KASAN_TAG_INVALID, unpoisoning gives them the pointer's tag; memory outside
        // the tagged heap has no tags and is left alone. A granule is accessible or not
        // as a whole, so poisoning takes only the granules wholly inside the range
        // (never a byte outside it), unpoisoning every granule it touches.
        (runtime::RunMode::SwTags, true) => {
            let t = runtime::tags();
            let g = kasan_core::sw_tags::TAG_GRANULE;
            let start = addr.next_multiple_of(g);
            let end = (addr + size) & !(g - 1);
            if end > start {
                t.shadow.poison(start, end - start, t.scheme().invalid);
            }
        }
        (runtime::RunMode::SwTags, false) => runtime::tags().shadow.unpoison(addr, size),
    }
}

/// Runs one of the heap's allocation calls for the caller of the entry point whose
/// frame is `fp`, with its track (none when nested in the runtime).
#[inline(always)]
pub(crate) fn alloc_with_result(
    fp: usize,
    f: impl FnOnce(&kasan_core::report::Track) -> Result<usize, AllocError>,
) -> Result<usize, AllocError> {
    ensure_init();
    let r = runtime::entry(|| {
        let t = enter(|| track(fp)).unwrap_or_default();
        f(&t)
    });
    if r.is_err() {
        set_errno(libc::ENOMEM);
    }
    r
}

/// [`alloc_with_result`] as a C pointer: NULL (and ENOMEM) on failure.
#[inline(always)]
pub(crate) fn alloc_with(
    fp: usize,
    f: impl FnOnce(&kasan_core::report::Track) -> Result<usize, AllocError>,
) -> *mut c_void {
    match alloc_with_result(fp, f) {
        Ok(p) => p as *mut c_void,
        Err(AllocError::Busy) => {
            warn_busy("allocation");
            ptr::null_mut()
        }
        Err(AllocError::Invalid | AllocError::OutOfMemory | AllocError::Destroyed) => {
            ptr::null_mut()
        }
    }
}

/// Allocates (kmalloc) for the caller of the entry point whose frame is `fp`.
#[inline(always)]
pub(crate) fn alloc(size: usize, align: usize, zero: bool, fp: usize) -> *mut c_void {
    alloc_with(
        fp,
        |t| crate::with_heap!(h => h.alloc(size, align.max(MIN_ALIGN), zero, t)),
    )
}

/// Frees through allocator `kind` for the caller of the entry point whose frame is
/// `fp`; reports bad frees.
#[inline(always)]
pub(crate) fn free_kind(p: usize, kind: FreeKind, fp: usize) {
    ensure_init();
    let r = runtime::entry(|| {
        let t = enter(|| track(fp)).unwrap_or_default();
        crate::with_heap!(h => h.free(p, kind, &t))
    });
    if let Err(e) = r {
        runtime::report_free(p, e == FreeError::Double, fp);
    }
}

/// Frees a malloc/kmalloc object for the caller of the entry point whose frame is `fp`.
#[inline(always)]
fn free_at(p: usize, fp: usize) {
    free_kind(p, FreeKind::Kmalloc, fp);
}

/// `void *malloc(size_t size)`.
#[unsafe(no_mangle)]
pub extern "C" fn malloc(size: usize) -> *mut c_void {
    alloc(size, MIN_ALIGN, false, frame_pointer())
}

/// `void free(void *p)`.
#[unsafe(no_mangle)]
pub extern "C" fn free(p: *mut c_void) {
    if !p.is_null() {
        free_at(p as usize, frame_pointer());
    }
}

/// `void *calloc(size_t n, size_t size)`: NULL with ENOMEM on overflow.
#[unsafe(no_mangle)]
pub extern "C" fn calloc(n: usize, size: usize) -> *mut c_void {
    match n.checked_mul(size) {
        Some(total) => alloc(total, MIN_ALIGN, true, frame_pointer()),
        None => {
            set_errno(libc::ENOMEM);
            ptr::null_mut()
        }
    }
}

/// `void *realloc(void *p, size_t size)`: always moves (so stale pointers to the old
/// block are caught), copies the smaller size, frees the old block.
#[unsafe(no_mangle)]
pub extern "C" fn realloc(p: *mut c_void, size: usize) -> *mut c_void {
    let fp = frame_pointer();
    if p.is_null() {
        return alloc(size, MIN_ALIGN, false, fp);
    }
    ensure_init();
    let Some(old) = crate::with_heap!(h => h.usable_size(p as usize)) else {
        // Not a live object: report as a free would, and fail the call.
        free_at(p as usize, fp);
        return ptr::null_mut();
    };
    if size == 0 {
        free_at(p as usize, fp);
        return ptr::null_mut();
    }
    let new = alloc(size, MIN_ALIGN, false, fp);
    if !new.is_null() {
        crate::with_heap!(h => h.copy(new as usize, p as usize, old.min(size)));
        free_at(p as usize, fp);
    }
    new
}

/// `int posix_memalign(void **out, size_t align, size_t size)`.
///
/// # Safety
///
/// `out` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn posix_memalign(out: *mut *mut c_void, align: usize, size: usize) -> i32 {
    if !align.is_power_of_two() || !align.is_multiple_of(core::mem::size_of::<usize>()) {
        return libc::EINVAL;
    }
    let p = alloc(size, align, false, frame_pointer());
    if p.is_null() {
        return libc::ENOMEM;
    }
    // SAFETY: the caller promises `out` is writable.
    unsafe { *out = p };
    0
}

/// `void *aligned_alloc(size_t align, size_t size)`.
#[unsafe(no_mangle)]
pub extern "C" fn aligned_alloc(align: usize, size: usize) -> *mut c_void {
    if !align.is_power_of_two() {
        set_errno(libc::EINVAL);
        return ptr::null_mut();
    }
    alloc(size, align, false, frame_pointer())
}

/// `void *memalign(size_t align, size_t size)`.
#[unsafe(no_mangle)]
pub extern "C" fn memalign(align: usize, size: usize) -> *mut c_void {
    if !align.is_power_of_two() {
        set_errno(libc::EINVAL);
        return ptr::null_mut();
    }
    alloc(size, align, false, frame_pointer())
}

/// `void *valloc(size_t size)`.
#[unsafe(no_mangle)]
pub extern "C" fn valloc(size: usize) -> *mut c_void {
    alloc(size, PAGE_SIZE, false, frame_pointer())
}

/// `void *pvalloc(size_t size)`: page-aligned, size rounded up to pages.
#[unsafe(no_mangle)]
pub extern "C" fn pvalloc(size: usize) -> *mut c_void {
    match size.checked_next_multiple_of(PAGE_SIZE) {
        Some(s) => alloc(s.max(PAGE_SIZE), PAGE_SIZE, false, frame_pointer()),
        None => {
            set_errno(libc::ENOMEM);
            ptr::null_mut()
        }
    }
}

/// `size_t malloc_usable_size(void *p)`: the size asked for (never the redzone).
/// A freed object is read after free (reported as such by the one-byte check, as
/// `ksize` is in Linux); any other pointer that is not the start of a live object
/// gets ASan's error line ("not owned") naming the caller; both return 0.
#[unsafe(no_mangle)]
pub extern "C" fn malloc_usable_size(p: *mut c_void) -> usize {
    let fp = frame_pointer();
    if p.is_null() {
        return 0;
    }
    ensure_init();
    if !check_byte(p as usize, fp) {
        return 0;
    }
    match crate::with_heap!(h => h.usable_size(p as usize)) {
        Some(n) => n,
        None => {
            crate::kernel::warn_with_caller(
                format_args!(
                    "kasan: attempting to call malloc_usable_size() for pointer which is not owned: {:#x}",
                    p as usize
                ),
                fp,
            );
            0
        }
    }
}

/// `void *kmalloc(size_t size, gfp_t flags)`: `ZERO_SIZE_PTR` for size 0.
#[unsafe(no_mangle)]
pub extern "C" fn kmalloc(size: usize, flags: u32) -> *mut c_void {
    if size == 0 {
        return ZERO_SIZE_PTR as *mut c_void;
    }
    alloc(size, MIN_ALIGN, flags & GFP_ZERO != 0, frame_pointer())
}

/// `void *kzalloc(size_t size, gfp_t flags)`.
#[unsafe(no_mangle)]
pub extern "C" fn kzalloc(size: usize, _flags: u32) -> *mut c_void {
    if size == 0 {
        return ZERO_SIZE_PTR as *mut c_void;
    }
    alloc(size, MIN_ALIGN, true, frame_pointer())
}

/// `void *kmalloc_array(size_t n, size_t size, gfp_t flags)`: NULL on overflow.
#[unsafe(no_mangle)]
pub extern "C" fn kmalloc_array(n: usize, size: usize, flags: u32) -> *mut c_void {
    match n.checked_mul(size) {
        Some(0) => ZERO_SIZE_PTR as *mut c_void,
        Some(total) => alloc(total, MIN_ALIGN, flags & GFP_ZERO != 0, frame_pointer()),
        None => ptr::null_mut(),
    }
}

/// `void *kcalloc(size_t n, size_t size, gfp_t flags)`: zeroed; NULL on overflow.
#[unsafe(no_mangle)]
pub extern "C" fn kcalloc(n: usize, size: usize, _flags: u32) -> *mut c_void {
    match n.checked_mul(size) {
        Some(0) => ZERO_SIZE_PTR as *mut c_void,
        Some(total) => alloc(total, MIN_ALIGN, true, frame_pointer()),
        None => ptr::null_mut(),
    }
}

fn is_zero_or_null(p: usize) -> bool {
    p <= ZERO_SIZE_PTR
}

/// Linux's `kasan_check_byte`: a one-byte read check of a pointer handed to an API
/// (`ksize`, `krealloc`), reported against the API's caller.
fn check_byte(p: usize, fp: usize) -> bool {
    runtime::check(p, 1, false, fp)
}

/// `void kfree(const void *p)`: NULL and `ZERO_SIZE_PTR` are ignored.
#[unsafe(no_mangle)]
pub extern "C" fn kfree(p: *const c_void) {
    if !is_zero_or_null(p as usize) {
        free_at(p as usize, frame_pointer());
    }
}

/// `size_t ksize(const void *p)`: the cache's object size; reports (and returns 0)
/// for a pointer whose first byte is not accessible (Linux's `kasan_check_byte`: a
/// freed object is a use-after-free). A readable pointer that is not the start of
/// a live kmalloc object (interior or wild) gets one warning line naming the
/// caller, where Linux's `__ksize` would `WARN_ON`, and 0. Does not unpoison.
#[unsafe(no_mangle)]
pub extern "C" fn ksize(p: *const c_void) -> usize {
    let fp = frame_pointer();
    if is_zero_or_null(p as usize) {
        return 0;
    }
    ensure_init();
    if !check_byte(p as usize, fp) {
        return 0;
    }
    match crate::with_heap!(h => h.ksize(p as usize)) {
        Some(n) => n,
        None => {
            crate::kernel::warn_with_caller(
                format_args!(
                    "kasan: ksize: {:#x} is not the start of a kmalloc object",
                    p as usize
                ),
                fp,
            );
            0
        }
    }
}

/// `void *krealloc(const void *p, size_t size, gfp_t flags)`: a freed `p` is
/// reported and NULL returned; size 0 frees and returns `ZERO_SIZE_PTR`.
#[unsafe(no_mangle)]
pub extern "C" fn krealloc(p: *const c_void, size: usize, flags: u32) -> *mut c_void {
    let fp = frame_pointer();
    let p = p as usize;
    if is_zero_or_null(p) {
        return if size == 0 {
            ZERO_SIZE_PTR as *mut c_void
        } else {
            alloc(size, MIN_ALIGN, flags & GFP_ZERO != 0, fp)
        };
    }
    ensure_init();
    if !check_byte(p, fp) {
        return ptr::null_mut();
    }
    if size == 0 {
        free_at(p, fp);
        return ZERO_SIZE_PTR as *mut c_void;
    }
    let Some(old) = crate::with_heap!(h => h.usable_size(p)) else {
        free_at(p, fp);
        return ptr::null_mut();
    };
    // Within the object's cache size, Linux's krealloc grows or shrinks in place:
    // the new tail becomes valid or redzone again.
    let resized = match runtime::mode() {
        runtime::RunMode::Generic => runtime::HEAP.resize(p, size),
        // Tag modes record the reallocation in the stack ring (Linux's krealloc saves
        // the alloc track again), so a later report names this krealloc.
        runtime::RunMode::SwTags => runtime::entry(|| {
            let t = enter(|| track(fp)).unwrap_or_default();
            runtime::TAGS_HEAP.resize_tracked(p, size, &t)
        }),
    };
    if resized {
        if flags & GFP_ZERO != 0 && size > old {
            // SAFETY: `[p + old, p + size)` is inside the live object just resized.
            unsafe { ptr::write_bytes((p + old) as *mut u8, 0, size - old) };
        }
        return p as *mut c_void;
    }
    let new = alloc(size, MIN_ALIGN, flags & GFP_ZERO != 0, fp);
    if !new.is_null() {
        crate::with_heap!(h => h.copy(new as usize, p, old.min(size)));
        free_at(p, fp);
    }
    new
}

/// `void kfree_sensitive(const void *p)`: zero the whole object, then free it.
#[unsafe(no_mangle)]
pub extern "C" fn kfree_sensitive(p: *const c_void) {
    let fp = frame_pointer();
    let p = p as usize;
    if is_zero_or_null(p) {
        return;
    }
    ensure_init();
    // As Linux's: ksize() first (a freed object is reported there and reads as
    // size 0, so nothing is zeroed), then kfree, which reports the double free.
    if check_byte(p, fp) {
        if let Some(n) = crate::with_heap!(h => h.usable_size(p)) {
            // SAFETY: `p` is a live object of `n` usable bytes.
            unsafe { ptr::write_bytes(p as *mut u8, 0, n) };
        }
    }
    free_at(p, fp);
}

/// `unsigned long __get_free_pages(gfp_t flags, unsigned int order)`: `2^order`
/// page-aligned pages; freed pages are poisoned as `use-after-free`.
#[unsafe(no_mangle)]
pub extern "C" fn __get_free_pages(flags: u32, order: u32) -> usize {
    alloc_with(
        frame_pointer(),
        |t| crate::with_heap!(h => h.alloc_pages(order, flags, flags & GFP_ZERO != 0, t)),
    ) as usize
}

/// `void free_pages(unsigned long addr, unsigned int order)`: a pointer the page
/// allocator did not hand out with this order is an invalid free.
#[unsafe(no_mangle)]
pub extern "C" fn free_pages(addr: usize, order: u32) {
    if addr != 0 {
        crate::kernel_mm::before_free(addr);
        free_kind(addr, FreeKind::Pages(order), frame_pointer());
    }
}

/// `void *vmalloc(unsigned long size)`: whole pages and a guard page after them;
/// the tail of the last page is poisoned as `vmalloc-out-of-bounds`.
#[unsafe(no_mangle)]
pub extern "C" fn vmalloc(size: usize) -> *mut c_void {
    vmalloc_at(size, PAGE_SIZE, false, frame_pointer())
}

/// `void *vzalloc(unsigned long size)`.
#[unsafe(no_mangle)]
pub extern "C" fn vzalloc(size: usize) -> *mut c_void {
    vmalloc_at(size, PAGE_SIZE, true, frame_pointer())
}

/// With `kasan.vmalloc=off` the area's tail is left unchecked (its pages are
/// still guarded), as Linux leaves vmalloc memory untagged.
pub(crate) fn vmalloc_at(size: usize, align: usize, zero: bool, fp: usize) -> *mut c_void {
    let p = alloc_with(
        fp,
        |t| crate::with_heap!(h => h.alloc_vmalloc_aligned(size, align, zero, t)),
    );
    // Generic: the heap leaves the vmalloc space's shadow zero itself.
    if !p.is_null() && !runtime::config().vmalloc && runtime::mode() == runtime::RunMode::SwTags {
        // The area's pages all carry the pointer's tag.
        runtime::tags()
            .shadow
            .unpoison(p as usize, size.next_multiple_of(PAGE_SIZE));
    }
    p
}

/// `void *__vmalloc_node(unsigned long size, unsigned long align, gfp_t gfp_mask,
/// int node, const void *caller)`: an area aligned to `align` (a power of two), zeroed
/// with `__GFP_ZERO`; `node` and `caller` are ignored (one node; the track is the
/// caller's stack).
#[unsafe(no_mangle)]
pub extern "C" fn __vmalloc_node(
    size: usize,
    align: usize,
    gfp: u32,
    _node: i32,
    _caller: *const c_void,
) -> *mut c_void {
    vmalloc_at(size, align, gfp & GFP_ZERO != 0, frame_pointer())
}

/// `void vfree(const void *p)`.
#[unsafe(no_mangle)]
pub extern "C" fn vfree(p: *const c_void) {
    if !p.is_null() {
        vfree_at(p as usize, frame_pointer());
    }
}

/// `vfree` for the caller of the entry point whose frame is `fp`.
pub(crate) fn vfree_at(p: usize, fp: usize) {
    crate::kernel_mm::before_free(p);
    free_kind(p, FreeKind::Vmalloc, fp);
}

/// `void vm_unmap_aliases(void)`: the lazy purge of freed vmalloc areas, now.
#[unsafe(no_mangle)]
pub extern "C" fn vm_unmap_aliases() {
    ensure_init();
    crate::with_heap!(h => h.purge_vmalloc());
    // Everything purged: the shadow pages kept for reuse go too.
    kasan_hosted::shadow_map::drop_vmalloc_shadow_cache();
}

/// `void kasan_record_aux_stack(const void *p)`.
#[unsafe(no_mangle)]
pub extern "C" fn kasan_record_aux_stack(p: *const c_void) {
    ensure_init();
    runtime::record_aux(p as usize, frame_pointer());
}

/// `void kasan_disable_current(void)`.
#[unsafe(no_mangle)]
pub extern "C" fn kasan_disable_current() {
    runtime::disable_current();
}

/// `void kasan_enable_current(void)`.
#[unsafe(no_mangle)]
pub extern "C" fn kasan_enable_current() {
    runtime::enable_current();
}

/// `void kasan_poison_range(const void *p, size_t size)`.
#[unsafe(no_mangle)]
pub extern "C" fn kasan_poison_range(p: *const c_void, size: usize) {
    user_region("kasan_poison_range", p as usize, size, true);
}

/// `void kasan_unpoison_range(const void *p, size_t size)`.
#[unsafe(no_mangle)]
pub extern "C" fn kasan_unpoison_range(p: *const c_void, size: usize) {
    user_region("kasan_unpoison_range", p as usize, size, false);
}

/// `void *kasan_reset_tag(const void *p)`: the match-all pointer to the same memory
/// (Linux: the native tag); generic mode: `p`.
#[unsafe(no_mangle)]
pub extern "C" fn kasan_reset_tag(p: *const c_void) -> *mut c_void {
    runtime::reset_tag(p as usize) as *mut c_void
}

/// `void *kasan_set_tag(const void *p, unsigned char tag)`: `p` carrying `tag` (for a
/// heap address; others are returned as they are); generic mode: `p`.
#[unsafe(no_mangle)]
pub extern "C" fn kasan_set_tag(p: *const c_void, tag: u8) -> *mut c_void {
    runtime::set_tag(p as usize, tag) as *mut c_void
}

/// `unsigned char kasan_get_tag(const void *p)`: the pointer's tag (the match-all tag
/// for a pointer that carries none); generic mode: 0xFF.
#[unsafe(no_mangle)]
pub extern "C" fn kasan_get_tag(p: *const c_void) -> u8 {
    runtime::get_tag(p as usize)
}

/// `int kasan_reports_count(void)`.
#[unsafe(no_mangle)]
pub extern "C" fn kasan_reports_count() -> i32 {
    runtime::REPORTER.count() as i32
}

/// C++ `operator new` that cannot fail: the runtime cannot throw `std::bad_alloc`,
/// so running out of memory is a clear message and an abort.
#[inline(always)]
fn new_or_abort(size: usize, align: usize, fp: usize) -> *mut c_void {
    let p = alloc(size, align, false, fp);
    if p.is_null() {
        kasan_hosted::output::write_stderr(b"kasan: operator new: out of memory\n");
        // SAFETY: abort has no preconditions.
        unsafe { libc::abort() };
    }
    p
}

/// `operator new(size_t)`: interposed so that allocation stacks start in the
/// program (libstdc++'s own has no frame pointer, which would hide its caller).
#[unsafe(no_mangle)]
pub extern "C" fn _Znwm(size: usize) -> *mut c_void {
    new_or_abort(size, MIN_ALIGN, frame_pointer())
}

/// `operator new[](size_t)`.
#[unsafe(no_mangle)]
pub extern "C" fn _Znam(size: usize) -> *mut c_void {
    new_or_abort(size, MIN_ALIGN, frame_pointer())
}

/// `operator new(size_t, const std::nothrow_t&)`: NULL on failure.
#[unsafe(no_mangle)]
pub extern "C" fn _ZnwmRKSt9nothrow_t(size: usize, _nothrow: *const c_void) -> *mut c_void {
    alloc(size, MIN_ALIGN, false, frame_pointer())
}

/// `operator new[](size_t, const std::nothrow_t&)`.
#[unsafe(no_mangle)]
pub extern "C" fn _ZnamRKSt9nothrow_t(size: usize, _nothrow: *const c_void) -> *mut c_void {
    alloc(size, MIN_ALIGN, false, frame_pointer())
}

/// `operator new(size_t, std::align_val_t)`.
#[unsafe(no_mangle)]
pub extern "C" fn _ZnwmSt11align_val_t(size: usize, align: usize) -> *mut c_void {
    new_or_abort(size, align, frame_pointer())
}

/// `operator new[](size_t, std::align_val_t)`.
#[unsafe(no_mangle)]
pub extern "C" fn _ZnamSt11align_val_t(size: usize, align: usize) -> *mut c_void {
    new_or_abort(size, align, frame_pointer())
}

macro_rules! deletes {
    ($($name:ident($($arg:ident: $ty:ty),*);)*) => {$(
        /// A C++ `operator delete` form: frees like `free`, reporting bad frees.
        #[unsafe(no_mangle)]
        pub extern "C" fn $name(p: *mut c_void $(, $arg: $ty)*) {
            $(let _ = $arg;)*
            if !p.is_null() {
                free_at(p as usize, frame_pointer());
            }
        }
    )*};
}

deletes! {
    _ZdlPv();
    _ZdaPv();
    _ZdlPvm(size: usize);
    _ZdaPvm(size: usize);
    _ZdlPvSt11align_val_t(align: usize);
    _ZdaPvSt11align_val_t(align: usize);
    _ZdlPvmSt11align_val_t(size: usize, align: usize);
    _ZdaPvmSt11align_val_t(size: usize, align: usize);
    _ZdlPvRKSt9nothrow_t(nothrow: *const c_void);
    _ZdaPvRKSt9nothrow_t(nothrow: *const c_void);
}
