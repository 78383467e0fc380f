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
//! The vmalloc space's shadow ([`VMALLOC`]) starts `PROT_NONE`: populate maps fresh
//! anonymous memory, release maps `PROT_NONE` again (the reservation stays ours).
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

/// Pages of each value in the memfd (2 MiB each; the mappings' period).
const SECTION_PAGES: usize = 512;
/// The values with a shared page, in file order.
const SHARED: [u8; 2] = [PAGE_FREE, VMALLOC_INVALID];

/// The memfd (-1: none, nothing but zero is shared).
static FD: AtomicI32 = AtomicI32::new(-1);
/// Its device and inode, checked before each use: a program that closed the
/// descriptor or put another file on its number must not become our shadow.
static FD_DEV: AtomicU64 = AtomicU64::new(0);
static FD_INO: AtomicU64 = AtomicU64::new(0);
/// The lowest and highest-plus-one shadow address ever mapped to a poisoned page:
/// only there may a page read other than zero after `MADV_DONTNEED`.
static FILE_LO: AtomicUsize = AtomicUsize::new(usize::MAX);
static FILE_HI: AtomicUsize = AtomicUsize::new(0);

/// `kasan.shadow_share`: off shares nothing (every shadow byte written, the flat
/// shadow of before).
static SHARING: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(true);

/// Turns page sharing on or off (`kasan.shadow_share`; at start-up).
pub fn set_sharing(on: bool) {
    SHARING.store(on, Ordering::Relaxed);
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

/// Creates the memfd of shared poisoned pages. Without it (no memfd, no memory)
/// only the zero page is shared and poison is written as before.
pub fn init() {
    // SAFETY: memfd_create takes a NUL-terminated name; the descriptor is ours.
    let fd = unsafe { libc::memfd_create(c"kasan-shadow".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return;
    }
    let size = SHARED.len() * SECTION_PAGES * SHADOW_PAGE;
    let mut ok = true;
    // SAFETY: ftruncate on our own descriptor.
    if unsafe { libc::ftruncate(fd, size as libc::off_t) } != 0 {
        ok = false;
    }
    // Each section is written 64 pages per call, every iovec naming one page buffer.
    const BATCH: usize = 64;
    let mut page = [0u8; SHADOW_PAGE];
    for (section, &value) in SHARED.iter().enumerate() {
        page.fill(value);
        let iov = [libc::iovec {
            iov_base: page.as_mut_ptr().cast(),
            iov_len: SHADOW_PAGE,
        }; BATCH];
        for i in (0..SECTION_PAGES).step_by(BATCH) {
            let off = (section * SECTION_PAGES + i) * SHADOW_PAGE;
            // SAFETY: writes BATCH copies of our page buffer into our memfd.
            let n = unsafe { libc::pwritev(fd, iov.as_ptr(), BATCH as i32, off as libc::off_t) };
            ok &= n == (BATCH * SHADOW_PAGE) as isize;
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
    FD_DEV.store(st.st_dev, Ordering::Relaxed);
    FD_INO.store(st.st_ino, Ordering::Relaxed);
    // Release pairs with the Acquire in `fd`: a thread that sees the descriptor sees
    // its identity.
    FD.store(fd, Ordering::Release);
}

/// The memfd, if it is still ours.
fn fd() -> Option<i32> {
    // Acquire: see `init`.
    let fd = FD.load(Ordering::Acquire);
    if fd < 0 {
        return None;
    }
    // SAFETY: fstat fills one struct; a closed or foreign descriptor only fails or
    // mismatches.
    let mut st: libc::stat = unsafe { core::mem::zeroed() };
    // SAFETY: as above.
    let same = unsafe { libc::fstat(fd, &mut st) } == 0
        && st.st_dev == FD_DEV.load(Ordering::Relaxed)
        && st.st_ino == FD_INO.load(Ordering::Relaxed);
    if !same {
        // The program closed or replaced it: share nothing but zero from now on.
        FD.store(-1, Ordering::Relaxed);
        return None;
    }
    Some(fd)
}

/// Maps fresh anonymous memory (`prot`) over whole shadow pages.
fn map_anonymous(addr: usize, len: usize, prot: i32) -> bool {
    if !in_shadow(addr, len) {
        return false;
    }
    // SAFETY: whole pages inside the shadow reservation (checked above); MAP_FIXED
    // replaces what the core asked us to replace.
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
    lo < FILE_HI.load(Ordering::Relaxed) && hi > FILE_LO.load(Ordering::Relaxed)
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
            && (value == 0 || (SHARED.contains(&value) && FD.load(Ordering::Relaxed) >= 0))
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
        let Some(fd) = fd() else {
            return false;
        };
        FILE_LO.fetch_min(addr, Ordering::Relaxed);
        FILE_HI.fetch_max(addr + len, Ordering::Relaxed);
        let mut at = addr;
        while at < addr + len {
            let index = at / SHADOW_PAGE;
            let n = (SECTION_PAGES - index % SECTION_PAGES).min((addr + len - at) / SHADOW_PAGE);
            let off = (section * SECTION_PAGES + index % SECTION_PAGES) * SHADOW_PAGE;
            // SAFETY: whole pages inside the shadow reservation (checked above), mapped
            // privately from our memfd, whose `off..off + n pages` exists.
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
                // The pages mapped so far read `value`, which the caller writes anyway.
                return false;
            }
            at += n * SHADOW_PAGE;
        }
        true
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
    unsafe { VMALLOC.init(lo, hi, counts) };
    VMALLOC.set_cache_max(VMALLOC_SHADOW_CACHE);
    true
}

/// Released vmalloc shadow pages kept mapped for reuse: 4096 (16 MiB of shadow,
/// 128 MiB of vmalloc space: twice Linux's lazy-purge batch of 64 MiB), so a program
/// that keeps reusing its vmalloc addresses maps its shadow once. `vm_unmap_aliases`
/// unmaps them.
pub const VMALLOC_SHADOW_CACHE: usize = 4096;

/// Unmaps the vmalloc shadow pages kept for reuse (`vm_unmap_aliases`).
pub fn drop_vmalloc_shadow_cache() {
    let _ = VMALLOC.drop_cache(&HostShadowPages);
}

/// Whether shadow address `addr` lies in the vmalloc space's on-demand shadow and is
/// not populated (a fault there is an access to vmalloc memory nobody allocated).
pub fn is_unpopulated_vmalloc_shadow(addr: usize) -> bool {
    VMALLOC.covers(addr) && !VMALLOC.readable(addr)
}
