//! The hosted shadow's pages ([`ShadowPages`] for a process): the zero page is
//! anonymous memory never written (a fresh private anonymous mapping), a poisoned
//! shared page is a private mapping of a memfd filled with the poison value, and a
//! real page is what either becomes when written (the kernel's copy-on-write), so the
//! checks and the allocator write shadow exactly as before and never ask for a page.
//!
//! ```text
//!  memfd "kasan-shadow":  | PAGE_FREE x 512 pages | VMALLOC_INVALID x 512 pages |
//!  shadow page at index i, shared v:  mmap(MAP_PRIVATE | MAP_FIXED, offset = section(v) + (i % 512) pages)
//! ```
//!
//! The file offset follows the shadow page's index, so neighbouring shared pages are
//! contiguous in the file and the kernel merges their mappings: a poisoned range of
//! n pages costs about n / 512 mappings, however it was built up. Pages read through
//! these mappings are the file's (counted once, whatever the number of mappings);
//! only private copies are the process's memory, which is what `shadow_bytes` counts.
//!
//! The vmalloc space's shadow ([`VMALLOC`]; in sw-tags mode the tag shadow of its
//! vmalloc space, [`TAG_VMALLOC`]) starts `PROT_NONE`: populate maps fresh anonymous
//! memory, release maps `PROT_NONE` again (the reservation stays ours).
//!
//! # Safety
//!
//! Every `mmap` here is `MAP_FIXED` over whole pages of the shadow reservation
//! (`memory::map_shadow`), checked to lie inside it; the core only asks for pages that
//! describe memory the caller owns.
#![allow(unsafe_code)]

use core::sync::atomic::{AtomicI32, AtomicU64, AtomicUsize, Ordering};

use kasan_core::shadow::encoding::{PAGE_FREE, VMALLOC_INVALID};
use kasan_core::shadow_pages::{ShadowPages, VmallocShadow, SHADOW_PAGE};

use crate::memory::{SHADOW_OFFSET, USER_END};

/// Pages of each value in the generic shadow's memfd (2 MiB each; the mappings'
/// period).
const SECTION_PAGES: usize = 512;
/// The values with a shared page, in file order.
const SHARED: [u8; 2] = [PAGE_FREE, VMALLOC_INVALID];

/// A memfd of shared pages: for each value a section of `section_pages` pages
/// reading it, so that a run of shared pages maps contiguous file pages (the kernel
/// merges the mappings). Used for the generic shadow's poison values and for the tag
/// shadow's tags.
pub struct SharedFile {
    /// The descriptor (-1: none, nothing but zero is shared).
    fd: AtomicI32,
    /// Its device and inode, checked before each use: a program that closed the
    /// descriptor or put another file on its number must not become our shadow.
    dev: AtomicU64,
    ino: AtomicU64,
    /// The lowest and highest-plus-one shadow address ever mapped from the file:
    /// only there may a page read other than zero after `MADV_DONTNEED`.
    file_lo: AtomicUsize,
    file_hi: AtomicUsize,
    /// Pages per value.
    section_pages: usize,
}

impl core::fmt::Debug for SharedFile {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SharedFile")
            .field("fd", &self.fd.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl SharedFile {
    /// No file yet ([`SharedFile::init`] makes it).
    pub const fn new(section_pages: usize) -> SharedFile {
        SharedFile {
            fd: AtomicI32::new(-1),
            dev: AtomicU64::new(0),
            ino: AtomicU64::new(0),
            file_lo: AtomicUsize::new(usize::MAX),
            file_hi: AtomicUsize::new(0),
            section_pages,
        }
    }

    /// Creates the memfd `name` with a section for each of `values`, in order.
    /// Without it (no memfd, no memory) only the zero page is shared and poison is
    /// written as before.
    pub fn init(&self, name: &core::ffi::CStr, values: &[u8]) {
        // SAFETY: memfd_create takes a NUL-terminated name; the descriptor is ours.
        let fd = unsafe { libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC) };
        if fd < 0 {
            return;
        }
        let size = values.len() * self.section_pages * SHADOW_PAGE;
        let mut ok = true;
        // SAFETY: ftruncate on our own descriptor.
        if unsafe { libc::ftruncate(fd, size as libc::off_t) } != 0 {
            ok = false;
        }
        // Each section is written up to 64 pages per call, every iovec naming one
        // page buffer.
        const BATCH: usize = 64;
        let batch = BATCH.min(self.section_pages);
        let mut page = [0u8; SHADOW_PAGE];
        for (section, &value) in values.iter().enumerate() {
            page.fill(value);
            let iov = [libc::iovec {
                iov_base: page.as_mut_ptr().cast(),
                iov_len: SHADOW_PAGE,
            }; BATCH];
            for i in (0..self.section_pages).step_by(batch) {
                let n = batch.min(self.section_pages - i);
                let off = (section * self.section_pages + i) * SHADOW_PAGE;
                // SAFETY: writes `n` copies of our page buffer into our memfd.
                let w = unsafe { libc::pwritev(fd, iov.as_ptr(), n as i32, off as libc::off_t) };
                ok &= w == (n * SHADOW_PAGE) as isize;
            }
        }
        if !ok {
            // SAFETY: our descriptor.
            unsafe { libc::close(fd) };
            return;
        }
        let fd = crate::memory::move_fd_high(fd);
        // SAFETY: fstat fills one struct for our descriptor.
        let mut st: libc::stat = unsafe { core::mem::zeroed() };
        // SAFETY: as above.
        if unsafe { libc::fstat(fd, &mut st) } != 0 {
            // SAFETY: our descriptor.
            unsafe { libc::close(fd) };
            return;
        }
        self.dev.store(st.st_dev, Ordering::Relaxed);
        self.ino.store(st.st_ino, Ordering::Relaxed);
        // Release pairs with the Acquire in `fd`: a thread that sees the descriptor
        // sees its identity.
        self.fd.store(fd, Ordering::Release);
    }

    /// Whether the file exists (a hint: [`SharedFile::map`] checks it again).
    pub fn present(&self) -> bool {
        // Relaxed: a hint.
        self.fd.load(Ordering::Relaxed) >= 0
    }

    /// The memfd, if it is still ours.
    fn fd(&self) -> Option<i32> {
        // Acquire: see `init`.
        let fd = self.fd.load(Ordering::Acquire);
        if fd < 0 {
            return None;
        }
        // SAFETY: fstat fills one struct; a closed or foreign descriptor only fails
        // or mismatches.
        let mut st: libc::stat = unsafe { core::mem::zeroed() };
        // SAFETY: as above.
        let same = unsafe { libc::fstat(fd, &mut st) } == 0
            && st.st_dev == self.dev.load(Ordering::Relaxed)
            && st.st_ino == self.ino.load(Ordering::Relaxed);
        if !same {
            // The program closed or replaced it: share nothing but zero from now on.
            self.fd.store(-1, Ordering::Relaxed);
            return None;
        }
        Some(fd)
    }

    /// Whether shadow `[lo, hi)` may hold pages mapped from the file.
    pub fn may_back(&self, lo: usize, hi: usize) -> bool {
        lo < self.file_hi.load(Ordering::Relaxed) && hi > self.file_lo.load(Ordering::Relaxed)
    }

    /// Maps whole shadow pages `[addr, addr + len)` privately (copy-on-write) from
    /// section `section`, the file page following the shadow page's index. False
    /// when the file is gone or a mapping failed (the pages mapped so far read the
    /// value, which the caller then writes anyway).
    ///
    /// # Safety
    ///
    /// `[addr, addr + len)` must be whole pages of a shadow reservation of the
    /// runtime's that describe only memory the caller owns.
    unsafe fn map(&self, addr: usize, len: usize, section: usize) -> bool {
        let Some(fd) = self.fd() else {
            return false;
        };
        self.file_lo.fetch_min(addr, Ordering::Relaxed);
        self.file_hi.fetch_max(addr + len, Ordering::Relaxed);
        let period = self.section_pages;
        let mut at = addr;
        while at < addr + len {
            let index = at / SHADOW_PAGE;
            let n = (period - index % period).min((addr + len - at) / SHADOW_PAGE);
            let off = (section * period + index % period) * SHADOW_PAGE;
            // SAFETY: whole pages of the shadow reservation (the caller's promise),
            // mapped privately from our memfd, whose `off..off + n pages` exists.
            let p = unsafe {
                crate::sys::mmap(
                    at as *mut libc::c_void,
                    n * SHADOW_PAGE,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_NORESERVE | libc::MAP_FIXED,
                    fd,
                    off as libc::off_t,
                )
            };
            if p as usize != at {
                return false;
            }
            at += n * SHADOW_PAGE;
        }
        true
    }
}

/// The generic shadow's shared poisoned pages.
static FILE: SharedFile = SharedFile::new(SECTION_PAGES);

/// `kasan.shadow_share`: off shares nothing (every shadow byte written, the flat
/// shadow of before).
static SHARING: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(true);

/// Turns page sharing on or off (`kasan.shadow_share`; at start-up).
pub fn set_sharing(on: bool) {
    SHARING.store(on, Ordering::Relaxed);
}

/// Whether page sharing is on (`kasan.shadow_share`).
pub fn sharing() -> bool {
    SHARING.load(Ordering::Relaxed)
}

/// The vmalloc space's on-demand shadow bookkeeping.
pub static VMALLOC: VmallocShadow = VmallocShadow::new();

/// The process's shadow pages.
#[derive(Debug, Default, Clone, Copy)]
pub struct HostShadowPages;

/// The one instance ([`kasan_core::shadow::Shadow::with_pages`] takes a `'static`).
pub static HOST_SHADOW_PAGES: HostShadowPages = HostShadowPages;

const SHADOW_END: usize = SHADOW_OFFSET + (USER_END >> 3);

fn in_shadow(addr: usize, len: usize) -> bool {
    addr >= SHADOW_OFFSET
        && addr.is_multiple_of(SHADOW_PAGE)
        && len.is_multiple_of(SHADOW_PAGE)
        && addr.checked_add(len).is_some_and(|end| end <= SHADOW_END)
}

/// Creates the memfd of shared poisoned pages.
pub fn init() {
    FILE.init(c"kasan-shadow", &SHARED);
}

/// Maps fresh anonymous memory (`prot`) over whole shadow pages.
fn map_anonymous(addr: usize, len: usize, prot: i32) -> bool {
    if !in_shadow(addr, len) {
        return false;
    }
    // SAFETY: whole pages inside the shadow reservation (checked above).
    unsafe { map_anonymous_at(addr, len, prot) }
}

/// `mmap(MAP_FIXED)` of fresh anonymous memory over `[addr, addr + len)`.
///
/// # Safety
///
/// Whole pages of a shadow reservation of the runtime's, describing memory the core's
/// caller owns (MAP_FIXED replaces what the core asked us to replace).
unsafe fn map_anonymous_at(addr: usize, len: usize, prot: i32) -> bool {
    // SAFETY: the caller's promise.
    let p = unsafe {
        crate::sys::mmap(
            addr as *mut libc::c_void,
            len,
            prot,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_FIXED,
            -1,
            0,
        )
    };
    p as usize == addr
}

/// Whether shadow `[lo, hi)` may hold pages mapped from the memfd.
pub fn may_be_file_backed(lo: usize, hi: usize) -> bool {
    FILE.may_back(lo, hi)
}

/// Makes whole shadow pages read zero: `MADV_DONTNEED` where only anonymous memory
/// can be (the cheap way), a fresh anonymous mapping where a poisoned page may be
/// mapped (there the advice would bring the poison back).
pub fn zero_pages(lo: usize, hi: usize) {
    if hi <= lo {
        return;
    }
    if may_be_file_backed(lo, hi) && map_anonymous(lo, hi - lo, libc::PROT_READ | libc::PROT_WRITE)
    {
        return;
    }
    // SAFETY: whole pages of the shadow mapping that describe only memory the caller
    // clears; discarding them makes them read as zero.
    unsafe { libc::madvise(lo as *mut libc::c_void, hi - lo, libc::MADV_DONTNEED) };
}

impl ShadowPages for HostShadowPages {
    fn has_shared(&self, value: u8) -> bool {
        // Relaxed: set at start-up; the descriptor is a hint, `share` checks it again.
        SHARING.load(Ordering::Relaxed)
            && (value == 0 || (SHARED.contains(&value) && FILE.present()))
    }

    fn share(&self, addr: usize, len: usize, value: u8) -> bool {
        if value == 0 {
            return map_anonymous(addr, len, libc::PROT_READ | libc::PROT_WRITE);
        }
        let Some(section) = SHARED.iter().position(|&v| v == value) else {
            return false;
        };
        if !in_shadow(addr, len) {
            return false;
        }
        // SAFETY: whole pages inside the shadow reservation (checked above) that the
        // core says describe only memory its caller owns.
        unsafe { FILE.map(addr, len, section) }
    }

    fn populate(&self, addr: usize, len: usize, fill: u8) -> bool {
        if !map_anonymous(addr, len, libc::PROT_READ | libc::PROT_WRITE) {
            return false;
        }
        if fill != 0 {
            // SAFETY: the pages were just mapped readable and writable.
            unsafe { kasan_core::shadow::fill(addr, fill, len) };
        }
        true
    }

    fn unmap(&self, addr: usize, len: usize) {
        map_anonymous(addr, len, libc::PROT_NONE);
    }

    fn readable(&self, addr: usize) -> bool {
        VMALLOC.readable(addr)
    }
}

/// Sets up on-demand shadow for the vmalloc space `[base, base + size)`: its shadow
/// becomes `PROT_NONE` and the per-page counts are mapped. False: left as it was
/// (shadow always mapped).
pub fn init_vmalloc(base: usize, size: usize) -> bool {
    let lo = SHADOW_OFFSET + (base >> 3);
    let hi = SHADOW_OFFSET + ((base + size) >> 3);
    if !lo.is_multiple_of(SHADOW_PAGE) || !hi.is_multiple_of(SHADOW_PAGE) {
        return false;
    }
    let pages = (hi - lo) / SHADOW_PAGE;
    let Some(counts) = crate::memory::map_anonymous((pages * 2).next_multiple_of(4096)) else {
        return false;
    };
    if !map_anonymous(lo, hi - lo, libc::PROT_NONE) {
        return false;
    }
    // SAFETY: `counts` is fresh zeroed memory for `pages` u16s, never unmapped; the
    // runtime calls this once, before any thread allocates.
    unsafe { VMALLOC.init(lo, hi, counts, VMALLOC_INVALID) };
    VMALLOC.set_cache_max(VMALLOC_SHADOW_CACHE);
    true
}

/// Released vmalloc shadow pages kept mapped for reuse: 4096 (16 MiB of shadow,
/// 128 MiB of vmalloc space: twice Linux's lazy-purge batch of 64 MiB), so a program
/// that keeps reusing its vmalloc addresses maps its shadow once. `vm_unmap_aliases`
/// unmaps them.
pub const VMALLOC_SHADOW_CACHE: usize = 4096;

/// Unmaps the vmalloc shadow pages kept for reuse (`vm_unmap_aliases`), in
/// whichever shadow has on-demand vmalloc space.
pub fn drop_vmalloc_shadow_cache() {
    let _ = VMALLOC.drop_cache(&HostShadowPages);
    let _ = TAG_VMALLOC.drop_cache(&TagShadowPages);
}

/// The vmalloc address whose shadow (generic or tag) is `addr`, when `addr` lies
/// in a vmalloc space's on-demand shadow and is not populated (a fault there is an
/// access to vmalloc memory nobody allocated, or purged).
pub fn unpopulated_vmalloc_shadow(addr: usize) -> Option<usize> {
    if VMALLOC.covers(addr) && !VMALLOC.readable(addr) {
        return Some((addr - SHADOW_OFFSET) << 3);
    }
    if TAG_VMALLOC.covers(addr) && !TAG_VMALLOC.readable(addr) {
        // Relaxed: set before the runtime was ready (published by its Release).
        let (mem, shadow) = (
            TAG_VMALLOC_BASE.load(Ordering::Relaxed),
            TAG_VMALLOC_SHADOW.load(Ordering::Relaxed),
        );
        return Some(mem + ((addr - shadow) << 4));
    }
    None
}

/// Tag shadow pages per tag in the tag memfd (256 KiB each, 15 tags: 3.75 MiB): a run
/// of shared pages costs one mapping per 64 pages (4 MiB of memory at 1/16).
const TAG_SECTION_PAGES: usize = 64;
/// The tags with a shared page (tag 0 is the zero page), in file order: every 4-bit
/// tag of the x86-64 scheme but 0.
const TAG_SHARED: core::ops::RangeInclusive<u8> = 1..=0xF;

/// The tag-mode vmalloc space's on-demand shadow bookkeeping (the tag shadow of the
/// space the heap keeps for vmalloc at the top of the tagged arena).
pub static TAG_VMALLOC: VmallocShadow = VmallocShadow::new();
/// That space's first byte and the tag shadow byte describing it.
static TAG_VMALLOC_BASE: AtomicUsize = AtomicUsize::new(0);
static TAG_VMALLOC_SHADOW: AtomicUsize = AtomicUsize::new(0);

/// Sets up on-demand tag shadow for the tag-mode vmalloc space `[base, base +
/// size)`, whose tag shadow is `[shadow, shadow + size / 16)` inside the tag
/// shadow's reservation ([`init_tags`] first): it becomes `PROT_NONE` and the
/// per-page counts are mapped; `invalid` is the tag the parts of populated pages
/// outside every area read. False: left as it was (shadow always mapped).
pub fn init_tags_vmalloc(base: usize, size: usize, shadow: usize, invalid: u8) -> bool {
    let (lo, hi) = (shadow, shadow + size / 16);
    if !in_tag_shadow(lo, hi - lo) {
        return false;
    }
    let pages = (hi - lo) / SHADOW_PAGE;
    let Some(counts) = crate::memory::map_anonymous((pages * 2).next_multiple_of(4096)) else {
        return false;
    };
    // SAFETY: whole pages of the tag shadow (checked above), describing the vmalloc
    // space, which no allocation has used yet.
    if !unsafe { map_anonymous_at(lo, hi - lo, libc::PROT_NONE) } {
        return false;
    }
    TAG_VMALLOC_BASE.store(base, Ordering::Relaxed);
    TAG_VMALLOC_SHADOW.store(lo, Ordering::Relaxed);
    // SAFETY: `counts` is fresh zeroed memory for `pages` u16s, never unmapped; the
    // runtime calls this once, before any thread allocates.
    unsafe { TAG_VMALLOC.init(lo, hi, counts, invalid) };
    TAG_VMALLOC.set_cache_max(VMALLOC_SHADOW_CACHE);
    true
}

/// The tag shadow's shared pages: one section per tag.
static TAG_FILE: SharedFile = SharedFile::new(TAG_SECTION_PAGES);
/// The tag shadow's reservation, `[lo, hi)` (0, 0: none yet).
static TAG_LO: AtomicUsize = AtomicUsize::new(0);
static TAG_HI: AtomicUsize = AtomicUsize::new(0);

/// The tag shadow's pages ([`kasan_core::sw_tags::TagShadow::new_paged`]): the
/// interior of a big block's tag write is the shared page of its tag (a live block's
/// random tag, a freed one's invalid tag), its edges are written.
#[derive(Debug, Default, Clone, Copy)]
pub struct TagShadowPages;

/// The one instance.
pub static TAG_SHADOW_PAGES: TagShadowPages = TagShadowPages;

/// Sets up the tag shadow's sharing for its reservation `[lo, hi)` (whole pages of a
/// private anonymous mapping the runtime made and never unmaps); at start-up, before
/// any tag is written.
pub fn init_tags(lo: usize, hi: usize) {
    let tags: [u8; 15] = core::array::from_fn(|i| *TAG_SHARED.start() + i as u8);
    TAG_FILE.init(c"kasan-tag-shadow", &tags);
    TAG_LO.store(lo, Ordering::Relaxed);
    // Release pairs with the Acquire in `in_tag_shadow`.
    TAG_HI.store(hi, Ordering::Release);
}

fn in_tag_shadow(addr: usize, len: usize) -> bool {
    // Acquire: see `init_tags`.
    let hi = TAG_HI.load(Ordering::Acquire);
    addr >= TAG_LO.load(Ordering::Relaxed)
        && addr.is_multiple_of(SHADOW_PAGE)
        && len.is_multiple_of(SHADOW_PAGE)
        && addr.checked_add(len).is_some_and(|end| end <= hi)
}

impl ShadowPages for TagShadowPages {
    fn has_shared(&self, value: u8) -> bool {
        // Relaxed: set at start-up; the descriptor is a hint, `share` checks it again.
        SHARING.load(Ordering::Relaxed)
            && (value == 0 || (TAG_SHARED.contains(&value) && TAG_FILE.present()))
    }

    fn share(&self, addr: usize, len: usize, value: u8) -> bool {
        if !in_tag_shadow(addr, len) {
            return false;
        }
        if value == 0 {
            // SAFETY: whole pages of the tag shadow (checked above), describing memory
            // the core's caller owns.
            return unsafe { map_anonymous_at(addr, len, libc::PROT_READ | libc::PROT_WRITE) };
        }
        if !TAG_SHARED.contains(&value) {
            return false;
        }
        // SAFETY: as above.
        unsafe { TAG_FILE.map(addr, len, usize::from(value - TAG_SHARED.start())) }
    }

    fn populate(&self, addr: usize, len: usize, fill: u8) -> bool {
        if !in_tag_shadow(addr, len) {
            return false;
        }
        // SAFETY: as in `share`: whole pages of the tag shadow (checked above).
        if !unsafe { map_anonymous_at(addr, len, libc::PROT_READ | libc::PROT_WRITE) } {
            return false;
        }
        if fill != 0 {
            // SAFETY: the pages were just mapped readable and writable.
            unsafe { kasan_core::shadow::fill(addr, fill, len) };
        }
        true
    }

    fn unmap(&self, addr: usize, len: usize) {
        if in_tag_shadow(addr, len) {
            // SAFETY: as in `share`.
            unsafe { map_anonymous_at(addr, len, libc::PROT_NONE) };
        }
    }

    fn readable(&self, addr: usize) -> bool {
        TAG_VMALLOC.readable(addr)
    }
}
