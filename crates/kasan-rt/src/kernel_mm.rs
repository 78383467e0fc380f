//! Linux's memory-management helpers that kernel code (and Linux's KASAN test
//! suite) calls around the allocators: `kmalloc_node` and the `_track_caller`
//! variants, `struct page` and the conversions between pages, virtual and
//! "physical" addresses, `vmalloc_to_page`/`is_vmalloc_addr`, `set_memory_ro/rw`,
//! `vrealloc`; and the runtime queries a test harness needs (`kasan_last_bug_type`,
//! `kasan_save_enable_multi_shot`, `kasan_vmalloc_enabled`).
//!
//! `struct page` (include/kasan.h): in a process there is no memory map, so a page
//! descriptor is an address in a reserved, never-mapped range (Linux x86-64's
//! `vmemmap` base, `0xffffea0000000000`) at `pfn * 64`, where the page frame number
//! of an address is its untagged address >> 12. `page + 1` is then the next page,
//! as in a kernel, and a program that dereferences a descriptor faults instead of
//! reading something unrelated. "Physical" addresses are untagged addresses.
//!
//! Tags (sw-tags mode), as Linux: `page_address` of a page the page allocator
//! handed out carries that allocation's tag; of any other page (slab, vmalloc
//! backing, large kmalloc) the match-all tag, so `kfree(page_address(virt_to_page(p))
//! + offset_in_page(p))` frees `p`. `phys_to_virt` returns match-all pointers.
#![allow(unsafe_code)]

use core::ffi::{c_char, c_void};
use core::ptr;
use core::sync::atomic::{AtomicUsize, Ordering};

use kasan_core::mode::BlockKind;
use kasan_core::sync::SpinLock;
use kasan_hosted::task::frame_pointer;
use kasan_slab::heap::{PageBlock, MIN_ALIGN};
use kasan_slab::FreeKind;

use crate::alloc_api::{alloc, alloc_with, free_kind, vmalloc_at};
use crate::runtime::{self, ensure_init, format_into};

const PAGE_SHIFT: u32 = 12;
const PAGE_SIZE: usize = 1 << PAGE_SHIFT;
const GFP_ZERO: u32 = 0x100;
const ZERO_SIZE_PTR: usize = 16;
const EINVAL: i32 = 22;
/// Where page descriptors live (never mapped): Linux x86-64's `vmemmap` base.
const VMEMMAP_BASE: usize = 0xffff_ea00_0000_0000;
/// `sizeof(struct page)` in include/kasan.h (Linux's on x86-64).
const PAGE_DESC_SIZE: usize = 64;
/// Page frame numbers of user addresses (47 bits) fit in 35 bits.
const MAX_PFN: usize = 1 << 35;

fn warn(args: core::fmt::Arguments<'_>) {
    let mut buf = [0u8; 240];
    kasan_hosted::output::write_message::<1024>(format_into(&mut buf, args));
}

// --- kmalloc variants -------------------------------------------------------------

/// `void *kmalloc_node(size_t size, gfp_t flags, int node)`: one node; as kmalloc.
#[unsafe(no_mangle)]
pub extern "C" fn kmalloc_node(size: usize, flags: u32, _node: i32) -> *mut c_void {
    kmalloc_here(size, flags, frame_pointer())
}

/// `void *kzalloc_node(size_t size, gfp_t flags, int node)`.
#[unsafe(no_mangle)]
pub extern "C" fn kzalloc_node(size: usize, flags: u32, _node: i32) -> *mut c_void {
    kmalloc_here(size, flags | GFP_ZERO, frame_pointer())
}

/// `void *kmalloc_track_caller(size_t size, gfp_t flags)`: as kmalloc (the alloc
/// track is the whole stack, which shows the caller's caller anyway).
#[unsafe(no_mangle)]
pub extern "C" fn kmalloc_track_caller(size: usize, flags: u32) -> *mut c_void {
    kmalloc_here(size, flags, frame_pointer())
}

/// `void *kmalloc_node_track_caller(size_t size, gfp_t flags, int node)`.
#[unsafe(no_mangle)]
pub extern "C" fn kmalloc_node_track_caller(size: usize, flags: u32, _node: i32) -> *mut c_void {
    kmalloc_here(size, flags, frame_pointer())
}

#[inline(always)]
fn kmalloc_here(size: usize, flags: u32, fp: usize) -> *mut c_void {
    if size == 0 {
        return ZERO_SIZE_PTR as *mut c_void;
    }
    alloc(size, MIN_ALIGN, flags & GFP_ZERO != 0, fp)
}

// --- struct page ----------------------------------------------------------------

/// The descriptor of the page holding `addr` (tagged or not).
fn page_of(addr: usize) -> usize {
    VMEMMAP_BASE + (runtime::untag(addr) >> PAGE_SHIFT) * PAGE_DESC_SIZE
}

/// The untagged address of the page a descriptor names, if it is one.
fn page_addr(page: usize) -> Option<usize> {
    let off = page.checked_sub(VMEMMAP_BASE)?;
    (off.is_multiple_of(PAGE_DESC_SIZE) && off / PAGE_DESC_SIZE < MAX_PFN)
        .then_some((off / PAGE_DESC_SIZE) << PAGE_SHIFT)
}

/// The live page-backed block `addr` falls in.
fn block(addr: usize) -> Option<PageBlock> {
    crate::with_heap!(h => h.page_block(addr))
}

/// `struct page *alloc_pages(gfp_t gfp, unsigned int order)`: `2^order` pages from
/// the page allocator (as `__get_free_pages`); NULL on failure.
#[unsafe(no_mangle)]
pub extern "C" fn alloc_pages(gfp: u32, order: u32) -> *mut c_void {
    let p = alloc_with(
        frame_pointer(),
        |t| crate::with_heap!(h => h.alloc_pages(order, gfp, gfp & GFP_ZERO != 0, t)),
    ) as usize;
    if p == 0 {
        return ptr::null_mut();
    }
    page_of(p) as *mut c_void
}

/// `void __free_pages(struct page *page, unsigned int order)`.
#[unsafe(no_mangle)]
pub extern "C" fn __free_pages(page: *mut c_void, order: u32) {
    let fp = frame_pointer();
    if page.is_null() {
        return;
    }
    match page_addr(page as usize) {
        Some(addr) => {
            let p = with_page_tag(addr);
            before_free(p);
            free_kind(p, FreeKind::Pages(order), fp);
        }
        None => warn(format_args!(
            "kasan: __free_pages({page:p}, {order}): not a struct page, ignored\n"
        )),
    }
}

/// `addr` with the tag `page_address` gives it (see the module docs).
fn with_page_tag(addr: usize) -> usize {
    if runtime::mode() != runtime::RunMode::SwTags {
        return addr;
    }
    match block(addr) {
        Some(b) if b.kind == BlockKind::Pages => runtime::set_tag(addr, b.tag),
        _ => addr,
    }
}

/// `void *page_address(const struct page *page)`: NULL (and one warning line) for
/// a pointer that is no page descriptor.
#[unsafe(no_mangle)]
pub extern "C" fn page_address(page: *const c_void) -> *mut c_void {
    ensure_init();
    match page_addr(page as usize) {
        Some(addr) => with_page_tag(addr) as *mut c_void,
        None => {
            warn(format_args!(
                "kasan: page_address({page:p}): not a struct page\n"
            ));
            ptr::null_mut()
        }
    }
}

/// `struct page *virt_to_page(const void *addr)`.
#[unsafe(no_mangle)]
pub extern "C" fn virt_to_page(addr: *const c_void) -> *mut c_void {
    ensure_init();
    page_of(addr as usize) as *mut c_void
}

/// `phys_addr_t virt_to_phys(const volatile void *addr)`: the untagged address.
#[unsafe(no_mangle)]
pub extern "C" fn virt_to_phys(addr: *const c_void) -> u64 {
    ensure_init();
    runtime::untag(addr as usize) as u64
}

/// `void *phys_to_virt(phys_addr_t phys)`: a match-all pointer.
#[unsafe(no_mangle)]
pub extern "C" fn phys_to_virt(phys: u64) -> *mut c_void {
    phys as usize as *mut c_void
}

/// `struct page *vmalloc_to_page(const void *addr)`: the page backing a live
/// vmalloc address, NULL for any other address.
#[unsafe(no_mangle)]
pub extern "C" fn vmalloc_to_page(addr: *const c_void) -> *mut c_void {
    ensure_init();
    match block(addr as usize) {
        Some(b) if b.kind == BlockKind::Vmalloc => page_of(addr as usize) as *mut c_void,
        _ => ptr::null_mut(),
    }
}

/// `bool is_vmalloc_addr(const void *addr)`: whether `addr` is in a live vmalloc
/// area.
#[unsafe(no_mangle)]
pub extern "C" fn is_vmalloc_addr(addr: *const c_void) -> bool {
    ensure_init();
    block(addr as usize).is_some_and(|b| b.kind == BlockKind::Vmalloc)
}

/// Areas `set_memory_ro` made read-only and not yet made writable again or freed
/// (`vfree` restores write access only while this is non-zero).
static READ_ONLY: AtomicUsize = AtomicUsize::new(0);

/// Changes the protection of `numpages` pages at page-aligned `addr`, which must lie
/// in one live page-backed block. Returns 0 or `-EINVAL`.
fn set_memory(what: &str, addr: usize, numpages: i32, writable: bool) -> i32 {
    ensure_init();
    let untagged = runtime::untag(addr);
    let len = usize::try_from(numpages).unwrap_or(0) * PAGE_SIZE;
    let inside = block(addr).filter(|b| {
        untagged.is_multiple_of(PAGE_SIZE)
            && len > 0
            && untagged + len <= (b.start + b.len).next_multiple_of(PAGE_SIZE)
    });
    if inside.is_none() {
        warn(format_args!(
            "kasan: {what}({addr:#x}, {numpages}): not whole pages of a live page allocation or vmalloc area\n"
        ));
        return -EINVAL;
    }
    if !kasan_hosted::memory::set_writable(untagged, len, writable) {
        return -EINVAL;
    }
    if let Some(heap) = kasan_hosted::tagged::get() {
        // The memory is seen through one alias per tag: every one changes.
        for t in 0..kasan_hosted::tagged::ALIASES as u8 {
            let alias = heap.with_tag(untagged, t);
            if alias != untagged {
                kasan_hosted::memory::set_writable(alias, len, writable);
            }
        }
    }
    // Relaxed: a hint for vfree, which restores write access when it is non-zero.
    if writable {
        let _ = READ_ONLY.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
    } else {
        READ_ONLY.fetch_add(1, Ordering::Relaxed);
    }
    0
}

/// `int set_memory_ro(unsigned long addr, int numpages)`.
#[unsafe(no_mangle)]
pub extern "C" fn set_memory_ro(addr: usize, numpages: i32) -> i32 {
    set_memory("set_memory_ro", addr, numpages, false)
}

/// `int set_memory_rw(unsigned long addr, int numpages)`.
#[unsafe(no_mangle)]
pub extern "C" fn set_memory_rw(addr: usize, numpages: i32) -> i32 {
    set_memory("set_memory_rw", addr, numpages, true)
}

/// Before a vmalloc area or pages are freed: if any area was made read-only, make
/// this one's pages writable again (the allocator reuses them).
pub(crate) fn before_free(addr: usize) {
    // Relaxed: see READ_ONLY.
    if READ_ONLY.load(Ordering::Relaxed) == 0 {
        return;
    }
    if let Some(b) = block(addr) {
        let len = b.len.next_multiple_of(PAGE_SIZE);
        let start = b.start & !(PAGE_SIZE - 1);
        kasan_hosted::memory::set_writable(start, len, true);
        if let Some(heap) = kasan_hosted::tagged::get() {
            for t in 0..kasan_hosted::tagged::ALIASES as u8 {
                kasan_hosted::memory::set_writable(heap.with_tag(start, t), len, true);
            }
        }
    }
}

// --- vrealloc ---------------------------------------------------------------------

/// `void *vrealloc(const void *p, size_t size, gfp_t flags)` (Linux 6.12+): within
/// the area's pages the area is resized in place (the new tail valid, or the cut
/// part poisoned as `vmalloc-out-of-bounds`); otherwise a new area, the contents
/// copied, the old one freed. NULL `p` is `vmalloc`; size 0 frees and returns NULL.
/// A `p` that is no live vmalloc area is reported (`invalid-free`/`double-free`)
/// and NULL returned.
#[unsafe(no_mangle)]
pub extern "C" fn vrealloc(p: *const c_void, size: usize, flags: u32) -> *mut c_void {
    let fp = frame_pointer();
    let zero = flags & GFP_ZERO != 0;
    if p.is_null() {
        return vmalloc_at(size, PAGE_SIZE, zero, fp);
    }
    ensure_init();
    let p = p as usize;
    if size == 0 {
        crate::alloc_api::vfree_at(p, fp);
        return ptr::null_mut();
    }
    let Some(old) =
        block(p).filter(|b| b.kind == BlockKind::Vmalloc && b.start == runtime::untag(p))
    else {
        // Not a live area: the free path reports it as Linux's vfree would.
        free_kind(p, FreeKind::Vmalloc, fp);
        return ptr::null_mut();
    };
    if crate::with_heap!(h => h.resize_vmalloc(p, size)) {
        if zero && size > old.len {
            // SAFETY: `[p + old.len, p + size)` is inside the live area just resized.
            unsafe { ptr::write_bytes((p + old.len) as *mut u8, 0, size - old.len) };
        }
        return p as *mut c_void;
    }
    let new = vmalloc_at(size, PAGE_SIZE, zero, fp);
    if !new.is_null() {
        crate::with_heap!(h => h.copy(new as usize, p, old.len.min(size)));
        crate::alloc_api::vfree_at(p, fp);
    }
    new
}

// --- runtime queries for test harnesses --------------------------------------------

/// Interned bug types, NUL-terminated; a slot once written never changes, so the
/// pointers `kasan_last_bug_type` returns stay valid.
static BUG_TYPES: SpinLock<[[u8; 48]; 24]> = SpinLock::new([[0; 48]; 24]);

/// `const char *kasan_last_bug_type(void)`: the bug type of the newest report
/// (`"slab-out-of-bounds"`, ...), or NULL before the first.
#[unsafe(no_mangle)]
pub extern "C" fn kasan_last_bug_type() -> *const c_char {
    ensure_init();
    let Some(t) = runtime::REPORTER.last_bug_type() else {
        return ptr::null();
    };
    let t = t.as_bytes();
    let mut slots = BUG_TYPES.lock();
    for slot in slots.iter_mut() {
        let len = slot.iter().position(|&b| b == 0).unwrap_or(slot.len());
        if len == 0 && t.len() < slot.len() {
            slot[..t.len()].copy_from_slice(t);
            return slot.as_ptr().cast();
        }
        if &slot[..len] == t {
            return slot.as_ptr().cast();
        }
    }
    ptr::null()
}

/// `bool kasan_save_enable_multi_shot(void)`: every report printed from now on,
/// not only the first; returns the previous run-time setting.
#[unsafe(no_mangle)]
pub extern "C" fn kasan_save_enable_multi_shot() -> bool {
    ensure_init();
    runtime::REPORTER.set_multi_shot(true)
}

/// `void kasan_restore_multi_shot(bool enabled)`: back to the configuration unless
/// `enabled` (what `kasan_save_enable_multi_shot` returned) says it was on.
#[unsafe(no_mangle)]
pub extern "C" fn kasan_restore_multi_shot(enabled: bool) {
    ensure_init();
    runtime::REPORTER.set_multi_shot(enabled);
}

/// `bool kasan_vmalloc_enabled(void)`: whether vmalloc memory is checked
/// (`kasan.vmalloc`, on by default).
#[unsafe(no_mangle)]
pub extern "C" fn kasan_vmalloc_enabled() -> bool {
    ensure_init();
    runtime::config().vmalloc
}

/// `bool kasan_enabled(void)`: whether checks run (`kasan=off` turns them off).
#[unsafe(no_mangle)]
pub extern "C" fn kasan_enabled() -> bool {
    ensure_init();
    runtime::config().enabled
}
