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
    if let Some(page) = vmap_page(addr as usize) {
        return page as *mut c_void;
    }
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
    take_vmap(addr);
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

// --- vmap -------------------------------------------------------------------------

/// A live `vmap`/`vm_map_ram` area: its untagged start, its page count and the
/// page descriptors it maps (a runtime-private `mmap`ed array).
#[derive(Clone, Copy)]
struct Vmap {
    start: usize,
    count: usize,
    pages: *mut usize,
}

/// Live vmap areas; `start == 0` is a free slot.
struct VmapTable([Vmap; VMAP_MAX]);

// SAFETY: the page arrays are owned by their slot and only touched under the lock.
unsafe impl Send for VmapTable {}

const VMAP_MAX: usize = 256;
/// Live vmap areas (slots in use in [`VMAPS`]), so that `vfree` looks in the table
/// only when there is one.
static VMAPS_LIVE: AtomicUsize = AtomicUsize::new(0);
static VMAPS: SpinLock<VmapTable> = SpinLock::new(VmapTable(
    [Vmap {
        start: 0,
        count: 0,
        pages: ptr::null_mut(),
    }; VMAP_MAX],
));

/// `void *vmap(struct page **pages, unsigned int count, unsigned long flags,
/// pgprot_t prot)`: a vmalloc area (with its own tag in sw-tags mode) whose pages
/// are `pages`, the same memory seen at a second address. Sw-tags mode only: its
/// heap is a shared memory file mapped at 16 aliases, which can map a page twice;
/// generic mode's heap is private memory, which cannot, so there vmap returns NULL
/// with one warning line. NULL also for bad pages or when 256 vmaps are live.
///
/// # Safety
///
/// `pages` points at `count` page pointers (each read is checked first).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vmap(
    pages: *const *const c_void,
    count: u32,
    _flags: u64,
    _prot: u64,
) -> *mut c_void {
    // SAFETY: the caller passes `count` page pointers.
    unsafe { map_pages("vmap", pages, count as usize, frame_pointer()) }
}

/// `void *vm_map_ram(struct page **pages, unsigned int count, int node)`: as vmap.
///
/// # Safety
///
/// As [`vmap`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vm_map_ram(
    pages: *const *const c_void,
    count: u32,
    _node: i32,
) -> *mut c_void {
    // SAFETY: the caller passes `count` page pointers.
    unsafe { map_pages("vm_map_ram", pages, count as usize, frame_pointer()) }
}

/// `void vunmap(const void *addr)`: NULL is ignored; an address no vmap returned
/// gets one warning line.
#[unsafe(no_mangle)]
pub extern "C" fn vunmap(addr: *const c_void) {
    if !addr.is_null() {
        unmap_pages("vunmap", addr as usize, None, frame_pointer());
    }
}

/// `void vm_unmap_ram(const void *mem, unsigned int count)`.
#[unsafe(no_mangle)]
pub extern "C" fn vm_unmap_ram(mem: *const c_void, count: u32) {
    unmap_pages(
        "vm_unmap_ram",
        mem as usize,
        Some(count as usize),
        frame_pointer(),
    );
}

/// # Safety
///
/// `pages` points at `count` readable pointers.
unsafe fn map_pages(
    what: &str,
    pages: *const *const c_void,
    count: usize,
    fp: usize,
) -> *mut c_void {
    ensure_init();
    let Some(heap) = kasan_hosted::tagged::get() else {
        warn(format_args!(
            "kasan: {what}: mapping pages twice needs the sw-tags heap (shared memory); generic mode's heap is private: unsupported, NULL returned\n"
        ));
        return ptr::null_mut();
    };
    if pages.is_null() || count == 0 || count > (1 << 20) {
        warn(format_args!(
            "kasan: {what}({pages:p}, {count}): bad arguments\n"
        ));
        return ptr::null_mut();
    }
    let bytes = (count * core::mem::size_of::<usize>()).next_multiple_of(PAGE_SIZE);
    // SAFETY: a fresh private anonymous mapping for the runtime's own use.
    let array = unsafe {
        kasan_hosted::sys::mmap(
            ptr::null_mut(),
            bytes,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if array == libc::MAP_FAILED {
        return ptr::null_mut();
    }
    let array = array.cast::<usize>();
    for i in 0..count {
        // The read goes through the runtime's check first, as Linux's vmap reads
        // the array in instrumented code.
        let page = if runtime::check(pages as usize + i * 8, 8, false, fp) {
            // SAFETY: the caller's promise, and the check passed.
            unsafe { *pages.add(i) as usize }
        } else {
            0
        };
        let ok = page_addr(page).is_some_and(|a| heap.contains(a));
        if !ok {
            warn(format_args!(
                "kasan: {what}: pages[{i}] = {page:#x} is not a page of the heap, NULL returned\n"
            ));
            // SAFETY: the array mapped above.
            unsafe { kasan_hosted::sys::munmap(array.cast(), bytes) };
            return ptr::null_mut();
        }
        // SAFETY: inside the array mapped above.
        unsafe { *array.add(i) = page };
    }
    let v = vmalloc_at(count * PAGE_SIZE, PAGE_SIZE, false, fp);
    if v.is_null() {
        // SAFETY: the array mapped above.
        unsafe { kasan_hosted::sys::munmap(array.cast(), bytes) };
        return v;
    }
    let start = runtime::untag(v as usize);
    let mut table = VMAPS.lock();
    let Some(slot) = table.0.iter_mut().find(|e| e.start == 0) else {
        drop(table);
        warn(format_args!(
            "kasan: {what}: {VMAP_MAX} vmaps live already, NULL returned\n"
        ));
        crate::alloc_api::vfree_at(v as usize, fp);
        // SAFETY: the array mapped above.
        unsafe { kasan_hosted::sys::munmap(array.cast(), bytes) };
        return ptr::null_mut();
    };
    for i in 0..count {
        // SAFETY: filled above.
        let src = page_addr(unsafe { *array.add(i) }).unwrap_or(0);
        if !heap.alias_pages(start + i * PAGE_SIZE, src, PAGE_SIZE) {
            heap.restore_pages(start, count * PAGE_SIZE);
            drop(table);
            warn(format_args!(
                "kasan: {what}: the kernel refused to map the pages twice, NULL returned\n"
            ));
            crate::alloc_api::vfree_at(v as usize, fp);
            // SAFETY: the array mapped above.
            unsafe { kasan_hosted::sys::munmap(array.cast(), bytes) };
            return ptr::null_mut();
        }
    }
    *slot = Vmap {
        start,
        count,
        pages: array,
    };
    // Relaxed: changed under the table's lock; see `VMAPS_LIVE`.
    VMAPS_LIVE.fetch_add(1, Ordering::Relaxed);
    v
}

fn unmap_pages(what: &str, addr: usize, count: Option<usize>, fp: usize) {
    ensure_init();
    let start = runtime::untag(addr);
    let mut table = VMAPS.lock();
    let Some(slot) = table
        .0
        .iter_mut()
        .find(|e| e.start != 0 && e.start == start)
    else {
        drop(table);
        warn(format_args!(
            "kasan: {what}({addr:#x}): not an address vmap returned, ignored\n"
        ));
        return;
    };
    let e = *slot;
    if count.is_some_and(|c| c != e.count) {
        drop(table);
        warn(format_args!(
            "kasan: {what}({addr:#x}, {}): the area maps {} pages, ignored\n",
            count.unwrap_or(0),
            e.count
        ));
        return;
    }
    *slot = Vmap {
        start: 0,
        count: 0,
        pages: ptr::null_mut(),
    };
    // Relaxed: changed under the table's lock; see `VMAPS_LIVE`.
    VMAPS_LIVE.fetch_sub(1, Ordering::Relaxed);
    drop(table);
    if let Some(heap) = kasan_hosted::tagged::get() {
        heap.restore_pages(e.start, e.count * PAGE_SIZE);
    }
    let bytes = (e.count * core::mem::size_of::<usize>()).next_multiple_of(PAGE_SIZE);
    // SAFETY: the slot's array, no longer reachable from the table.
    unsafe { kasan_hosted::sys::munmap(e.pages.cast(), bytes) };
    crate::alloc_api::vfree_at(addr, fp);
}

/// The page a live vmap area maps at `addr`, if `addr` is in one.
fn vmap_page(addr: usize) -> Option<usize> {
    let a = runtime::untag(addr);
    let table = VMAPS.lock();
    let e = table
        .0
        .iter()
        .find(|e| e.start != 0 && a >= e.start && a < e.start + e.count * PAGE_SIZE)?;
    // SAFETY: inside the slot's array, read under the lock.
    Some(unsafe { *e.pages.add((a - e.start) / PAGE_SIZE) })
}

/// A vmalloc area freed with `vfree` while it still maps pages (vmap): the mapping
/// ends first, so the area's addresses show its own memory again before reuse.
fn take_vmap(addr: usize) {
    // Relaxed: an area being freed was returned by `map_pages` after its slot was
    // filled (the program got the pointer from this thread or through its own
    // synchronisation), so a live vmap being freed is always counted here. With
    // none live (always in generic mode) `vfree` takes no lock of this module.
    if VMAPS_LIVE.load(Ordering::Relaxed) == 0 {
        return;
    }
    let start = runtime::untag(addr);
    let mut table = VMAPS.lock();
    let Some(slot) = table
        .0
        .iter_mut()
        .find(|e| e.start != 0 && e.start == start)
    else {
        return;
    };
    let e = *slot;
    *slot = Vmap {
        start: 0,
        count: 0,
        pages: ptr::null_mut(),
    };
    // Relaxed: changed under the table's lock; see `VMAPS_LIVE`.
    VMAPS_LIVE.fetch_sub(1, Ordering::Relaxed);
    drop(table);
    if let Some(heap) = kasan_hosted::tagged::get() {
        heap.restore_pages(e.start, e.count * PAGE_SIZE);
    }
    let bytes = (e.count * core::mem::size_of::<usize>()).next_multiple_of(PAGE_SIZE);
    // SAFETY: the slot's array, no longer reachable from the table.
    unsafe { kasan_hosted::sys::munmap(e.pages.cast(), bytes) };
}

/// Takes this module's locks and keeps them (before `fork`, ahead of the
/// allocator's: their holders never wait for an allocator lock), so a child never
/// inherits one held by a thread it does not have (the child of a fork made while
/// another thread was in `vfree`'s `take_vmap` waited for ever in its own first
/// `vfree`).
pub(crate) fn lock_all() {
    core::mem::forget(VMAPS.lock());
    core::mem::forget(BUG_TYPES.lock());
}

/// Releases what [`lock_all`] took; in a forked child (`child`) the live vmap areas
/// then map their pages again over the child's private heap ([`fork_child_vmaps`]).
///
/// # Safety
///
/// This thread (in a child: the thread that forked) holds them through
/// [`lock_all`].
pub(crate) unsafe fn unlock_all(child: bool) {
    // SAFETY: forwarded from the caller.
    unsafe {
        BUG_TYPES.force_unlock();
        VMAPS.force_unlock();
    }
    if child {
        fork_child_vmaps();
    }
}

/// In a forked child, after the heap moved to its private copy (mapped linearly)
/// and the locks were released: every live vmap area maps its pages again. Runs
/// before any program code; a table lock held by this thread (a `fork` from a
/// signal handler that interrupted a vmap change) leaves the aliases lost, said
/// once.
fn fork_child_vmaps() {
    let Some(heap) = kasan_hosted::tagged::get() else {
        return;
    };
    let Some(table) = VMAPS.try_lock() else {
        kasan_hosted::output::write_stderr(
            b"kasan: fork: vmap areas were being changed; in this child they show their own memory, not their pages\n",
        );
        return;
    };
    for e in table.0.iter().filter(|e| e.start != 0) {
        for i in 0..e.count {
            // SAFETY: inside the slot's array, read under the lock.
            let page = unsafe { *e.pages.add(i) };
            if let Some(src) = page_addr(page) {
                heap.alias_pages(e.start + i * PAGE_SIZE, src, PAGE_SIZE);
            }
        }
    }
}
