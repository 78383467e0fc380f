//! Memory from the kernel for the hosted runtime: the shadow reservation at the
//! compiler's x86-64 offset, the heap arena, depot pools, page discard, and the
//! runtime's own allocator (the Rust global allocator of the library), which never
//! touches the sanitized heap.
//!
//! ```text
//!  0x0000_0000_0000 .. 0x0000_7fff_8000   low memory      (covered)
//!  0x0000_7fff_8000 .. 0x1000_7fff_8000   shadow          (MAP_NORESERVE, zero pages until written)
//!  0x1000_7fff_8000 .. 0x7fff_ffff_ffff   high memory     (covered; PIE, libraries, stacks, heap)
//! ```
//!
//! # Safety
//!
//! Raw `mmap`/`munmap`/`madvise` calls live here; each states which range it owns.
#![allow(unsafe_code)]

use core::alloc::{GlobalAlloc, Layout};
use core::ptr;

use kasan_core::shadow::{encoding, round_down, round_up, Shadow, GRANULE_MASK};
use kasan_core::sync::SpinLock;

/// The shadow offset the compilers are told (`-fasan-shadow-offset=0x7fff8000`).
pub const SHADOW_OFFSET: usize = 0x7fff_8000;
/// One past the last user-space address on x86-64 (47-bit).
pub const USER_END: usize = 1 << 47;
/// First address with shadow: Linux's `mmap_min_addr`, below which nothing can
/// ever be mapped. Accesses there get no shadow: the first page is
/// `null-ptr-deref`, the rest `user-memory-access`.
pub const COVERED_START: usize = 0x10000;

/// The shadow of the whole user address space, once [`map_shadow`] has succeeded.
pub static SHADOW: Shadow = {
    // SAFETY: every address in [COVERED_START, 2^47) has its shadow byte inside
    // [SHADOW_OFFSET, SHADOW_OFFSET + 2^44), which `map_shadow` maps before any
    // check runs; the runtime never consults `SHADOW` before that.
    unsafe { Shadow::new(SHADOW_OFFSET, COVERED_START, USER_END) }
        .with_pages(&crate::shadow_map::HOST_SHADOW_PAGES)
};

/// Why the shadow could not be mapped.
#[derive(Debug, Clone, Copy)]
pub struct MapError {
    /// `errno` from `mmap`.
    pub errno: i32,
}

/// Set once `map_shadow` has mapped the shadow (Release; pairs with the Acquire
/// load in [`shadow_mapped`]).
static SHADOW_MAPPED: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// Whether the shadow is mapped: code that may run in a process without the
/// runtime started (the symbolizer in unit tests, tools) reads shadow only then.
pub fn shadow_mapped() -> bool {
    // Acquire: pairs with the Release store at the end of `map_shadow`.
    SHADOW_MAPPED.load(core::sync::atomic::Ordering::Acquire)
}

/// Reserves the shadow range and poisons the shadow of the never-mappable low
/// addresses, so that inline checks of them call the runtime (and get
/// `null-ptr-deref` or `user-memory-access`).
pub fn map_shadow() -> Result<(), MapError> {
    let start = SHADOW_OFFSET;
    let len = (USER_END >> 3) + 4096;
    // SAFETY: MAP_FIXED_NOREPLACE never replaces an existing mapping: it fails
    // instead, so this cannot clobber anything of the process's.
    let p = unsafe {
        crate::sys::mmap(
            start as *mut libc::c_void,
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE
                | libc::MAP_ANONYMOUS
                | libc::MAP_NORESERVE
                | libc::MAP_FIXED_NOREPLACE,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED || p as usize != start {
        let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
        if p != libc::MAP_FAILED {
            // SAFETY: an old kernel ignored the flag and mapped elsewhere; that
            // mapping is ours and unused.
            unsafe { crate::sys::munmap(p, len) };
        }
        return Err(MapError { errno });
    }
    let null_shadow = SHADOW_OFFSET as *mut u8;
    // SAFETY: the shadow bytes of [0, COVERED_START) are the first ones of the mapping
    // made above.
    unsafe {
        kasan_core::shadow::fill(
            null_shadow as usize,
            encoding::USER_POISON,
            COVERED_START >> 3,
        )
    };
    crate::shadow_map::init();
    // Release: pairs with the Acquire load in `shadow_mapped`.
    SHADOW_MAPPED.store(true, core::sync::atomic::Ordering::Release);
    Ok(())
}

/// Real (private) bytes of the shadow, from `/proc/self/smaps`: the anonymous pages
/// of every mapping inside the shadow reservation (the shared zero and poisoned pages
/// are not the process's). For the exit statistics; allocates through the runtime's
/// own allocator.
pub fn shadow_resident_bytes() -> Option<usize> {
    anonymous_bytes_in(SHADOW_OFFSET, SHADOW_OFFSET + (USER_END >> 3) + 4096)
}

/// The anonymous (private) bytes of every mapping inside `[lo, hi)`, from
/// `/proc/self/smaps` (a shadow's real pages; its shared pages are the memfd's).
/// Allocates through the runtime's own allocator.
pub fn anonymous_bytes_in(lo: usize, hi: usize) -> Option<usize> {
    let smaps = std::fs::read_to_string("/proc/self/smaps").ok()?;
    let (shadow_lo, shadow_end) = (lo, hi);
    let mut in_shadow = false;
    let mut total = 0usize;
    let mut seen = false;
    for line in smaps.lines() {
        if let Some((range, _)) = line.split_once(' ') {
            if let Some((lo, hi)) = range.split_once('-') {
                if let (Ok(lo), Ok(hi)) =
                    (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16))
                {
                    in_shadow = lo >= shadow_lo && hi <= shadow_end;
                    continue;
                }
            }
        }
        if in_shadow {
            if let Some(kb) = line.strip_prefix("Anonymous:") {
                seen = true;
                total += kb
                    .trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<usize>()
                    .ok()?
                    * 1024;
            }
        }
    }
    seen.then_some(total)
}

/// Maps `len` bytes of fresh zeroed anonymous memory, reserved lazily.
pub fn map_anonymous(len: usize) -> Option<usize> {
    // SAFETY: a new anonymous mapping at an address the kernel chooses overlaps
    // nothing.
    let p = unsafe {
        crate::sys::mmap(
            ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    (p != libc::MAP_FAILED).then_some(p as usize)
}

/// Lowest descriptor number the runtime's own descriptors are moved to (below the
/// usual 1024 limit), out of the way of programs that expect small numbers.
const HIGH_FD: i32 = 1000;

/// Moves `fd` to a close-on-exec descriptor at or above 1000 (or as high as the
/// descriptor limit allows) and returns the new number; returns `fd` itself if it
/// cannot be moved.
pub fn move_fd_high(fd: i32) -> i32 {
    // SAFETY: getrlimit fills one struct; fcntl and close act on the caller's
    // descriptor, which is closed only once its duplicate exists.
    unsafe {
        let mut limit: libc::rlimit = core::mem::zeroed();
        let ceiling = if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            limit.rlim_cur.min(1024) as i32
        } else {
            256
        };
        let target = HIGH_FD.min(ceiling - 24);
        if target <= fd {
            return fd;
        }
        match libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, target) {
            high if high >= 0 => {
                libc::close(fd);
                high
            }
            _ => fd,
        }
    }
}

/// Gives the memory of whole pages back to the kernel; they read as zero afterwards.
pub fn discard(addr: usize, len: usize) {
    // SAFETY: MADV_DONTNEED on pages of the heap arena that the heap has just freed;
    // nothing holds references into them.
    unsafe { libc::madvise(addr as *mut libc::c_void, len, libc::MADV_DONTNEED) };
}

const PAGE: usize = 4096;

/// Sets the shadow of `[low, high)` to 0 (accessible). Whole pages of shadow are
/// given back to the kernel (they read as zero afterwards), so clearing the shadow of
/// an 8 MiB stack or a 1 GiB arena costs no resident memory and no writes; the
/// partial pages at both ends are written. The ends are rounded inwards to granules,
/// so nothing outside the range changes; the part outside the covered range is
/// ignored.
pub fn clear_shadow(low: usize, high: usize) {
    let (low, high) = (
        round_up(low).max(COVERED_START),
        round_down(high).min(USER_END),
    );
    if low >= high {
        return;
    }
    let (s_low, s_high) = (SHADOW.shadow_addr(low), SHADOW.shadow_addr(high));
    let (p_low, p_high) = ((s_low + PAGE - 1) & !(PAGE - 1), s_high & !(PAGE - 1));
    if p_low >= p_high {
        SHADOW.poison(low, high - low, 0);
        return;
    }
    SHADOW.poison(low, SHADOW.shadow_to_mem(p_low) - low, 0);
    // `[p_low, p_high)` is whole pages of the shadow mapping that describe only
    // memory inside `[low, high)`: they may read zero, as the caller asks.
    crate::shadow_map::zero_pages(p_low, p_high);
    let rest = SHADOW.shadow_to_mem(p_high);
    SHADOW.poison(rest, high - rest, 0);
}

/// Marks the program's own mapping of `[addr, addr + len)` in the low range
/// `[PAGE_SIZE, COVERED_START)` (a kernel with `vm.mmap_min_addr` below 64 KiB, or a
/// privileged program, lets it map there): its shadow bytes become 0 while mapped
/// (`mapped`), so the inline checks pass, and [`USER_POISON`](encoding::USER_POISON)
/// again once unmapped. The part of the range outside the low range is left alone.
/// Does nothing before the shadow is mapped.
pub fn mark_low_mapping(addr: usize, len: usize, mapped: bool) {
    let lo = addr.max(kasan_core::generic::PAGE_SIZE);
    let hi = addr.saturating_add(len).min(COVERED_START);
    if lo >= hi || !shadow_mapped() {
        return;
    }
    let value = if mapped { 0 } else { encoding::USER_POISON };
    let first = round_up(lo) >> 3;
    let last = round_up(hi) >> 3;
    // SAFETY: the shadow bytes of [0, COVERED_START) are the first ones of the shadow
    // mapping, which `shadow_mapped` says exists; the runtime never hands them out.
    unsafe { kasan_core::shadow::fill(SHADOW_OFFSET + first, value, last - first) };
}

/// Whether `[addr, addr + size)` lies in the low range the program mapped itself
/// ([`mark_low_mapping`]): a failed outline check there (below [`COVERED_START`],
/// where the checks see no shadow) is no bug.
pub fn in_low_mapping(addr: usize, size: usize) -> bool {
    let Some(end) = addr.checked_add(size.max(1)) else {
        return false;
    };
    if addr < kasan_core::generic::PAGE_SIZE || end > COVERED_START || !shadow_mapped() {
        return false;
    }
    ((addr >> 3)..end.div_ceil(8)).all(|g| {
        // SAFETY: as in `mark_low_mapping`: a shadow byte of [0, COVERED_START).
        unsafe { core::ptr::read_volatile((SHADOW_OFFSET + g) as *const u8) == 0 }
    })
}

/// Whether `[addr, addr + size)` is a range of user memory with shadow: it neither
/// wraps nor reaches below [`COVERED_START`] or past [`USER_END`]. An empty range
/// always is.
pub fn is_user_range(addr: usize, size: usize) -> bool {
    size == 0
        || (addr >= COVERED_START && addr.checked_add(size).is_some_and(|end| end <= USER_END))
}

/// [`Shadow::unpoison_user`] for the hosted shadow, with the whole granules cleared
/// by [`clear_shadow`] (large ranges cost page discards, not writes). The range must
/// pass [`is_user_range`].
pub fn unpoison_user(addr: usize, size: usize) {
    if size == 0 {
        return;
    }
    let end = addr + size;
    clear_shadow(round_down(addr), round_down(end));
    // The partial last granule, by the shared rule (its whole-granule part is empty).
    SHADOW.unpoison_user(round_down(end), end & GRANULE_MASK);
}

/// Makes whole pages of the heap arena inaccessible or accessible again (vmalloc
/// guard pages).
pub fn protect(addr: usize, len: usize, accessible: bool) {
    let prot = if accessible {
        libc::PROT_READ | libc::PROT_WRITE
    } else {
        libc::PROT_NONE
    };
    // SAFETY: the heap passes pages of its own arena mapping that hold no object.
    unsafe { libc::mprotect(addr as *mut libc::c_void, len, prot) };
}

/// Makes `len` bytes of pages at `addr` read-only or read-write again (Linux's
/// `set_memory_ro`/`set_memory_rw` on memory the program allocated); false if the
/// kernel refused.
pub fn set_writable(addr: usize, len: usize, writable: bool) -> bool {
    let prot = if writable {
        libc::PROT_READ | libc::PROT_WRITE
    } else {
        libc::PROT_READ
    };
    // SAFETY: the caller passes whole pages of a live allocation of the program's;
    // changing their protection touches no other mapping.
    unsafe { libc::mprotect(addr as *mut libc::c_void, len, prot) == 0 }
}

/// Reads a word at an address that may be unmapped, through the kernel, so that a
/// bad address is an error rather than a fault.
pub fn read_word(addr: usize) -> Option<usize> {
    let mut value = 0usize;
    let local = libc::iovec {
        iov_base: (&raw mut value).cast(),
        iov_len: 8,
    };
    let remote = libc::iovec {
        iov_base: addr as *mut libc::c_void,
        iov_len: 8,
    };
    // SAFETY: the kernel writes at most 8 bytes into `value` and checks `addr` itself.
    let n = unsafe { libc::process_vm_readv(libc::getpid(), &local, 1, &remote, 1, 0) };
    (n == 8).then_some(value)
}

const CLASSES: usize = 12; // 16 B .. 32 KiB
const CHUNK: usize = 1 << 20;
/// Address space the internal allocator reserves at start-up (lazily backed, never
/// counted as commit: `MAP_NORESERVE`).
const RESERVE: usize = 1 << 30;

struct Classes {
    free: [usize; CLASSES],
    bump: usize,
    bump_end: usize,
    /// The reservation, `[reserve_start, reserve_end)`; both 0 until made.
    reserve_start: usize,
    reserve_end: usize,
    /// Its first address not yet carved.
    reserve_next: usize,
    /// Whether the reservation was tried (it is tried once).
    reserve_tried: bool,
    /// Freed big blocks carved from the reservation: a list linked through their
    /// first word, their length in the second.
    big_free: usize,
}

impl Classes {
    /// Maps the reservation if that was not tried yet.
    fn reserve(&mut self) {
        if self.reserve_tried {
            return;
        }
        self.reserve_tried = true;
        if let Some(p) = map_anonymous(RESERVE) {
            (self.reserve_start, self.reserve_next, self.reserve_end) = (p, p, p + RESERVE);
        }
    }

    /// Carves `len` bytes (a multiple of the page size) aligned to `align` (a power of
    /// two, at least a page) from the reservation.
    fn carve(&mut self, len: usize, align: usize) -> Option<usize> {
        self.reserve();
        let start = self.reserve_next.checked_next_multiple_of(align)?;
        let end = start.checked_add(len)?;
        if self.reserve_start == 0 || end > self.reserve_end {
            return None;
        }
        self.reserve_next = end;
        Some(start)
    }

    fn in_reserve(&self, p: usize) -> bool {
        p >= self.reserve_start && p < self.reserve_end
    }

    /// A new chunk for the classes: from the reservation, else from the kernel.
    fn chunk(&mut self) -> Option<usize> {
        self.carve(CHUNK, 4096).or_else(|| map_anonymous(CHUNK))
    }

    /// A big block of `len` bytes (page multiple) when the kernel gave none: a freed
    /// one from the reservation that fits (first fit, taken whole), else a new one.
    fn big_from_reserve(&mut self, len: usize, align: usize) -> Option<usize> {
        let mut link: *mut usize = &raw mut self.big_free;
        // SAFETY: the list holds only freed big blocks of the reservation (mapped,
        // ours, at least a page long); each holds its next link and its length.
        unsafe {
            while *link != 0 {
                let block = *link;
                let block_len = *((block + 8) as *const usize);
                if block_len >= len && block.is_multiple_of(align) {
                    *link = *(block as *const usize);
                    return Some(block);
                }
                link = block as *mut usize;
            }
        }
        self.carve(len, align)
    }
}

/// The runtime's own allocator: power-of-two classes carved from 1 MiB chunks, with
/// free lists; bigger blocks are mapped one by one. Used as the Rust global allocator
/// of the library, so the symbolizer and other runtime data never come from the
/// program's (interposed) `malloc`.
///
/// The chunks come from 1 GiB of address space reserved at start-up
/// ([`InternalAlloc::reserve`]), so a program that later limits its address space
/// (`setrlimit(RLIMIT_AS)`) or exhausts it does not make the runtime's allocations
/// fail (Rust would abort the process in the middle of a report). When the
/// reservation is used up, chunks are mapped one by one; a big block the kernel
/// refuses is carved from the reservation too.
#[derive(Debug)]
pub struct InternalAlloc {
    state: SpinLock<ClassesCell>,
}

/// Wrapper so the state can be `Debug`.
pub struct ClassesCell(Classes);

impl core::fmt::Debug for ClassesCell {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("ClassesCell")
    }
}

impl Default for InternalAlloc {
    fn default() -> Self {
        Self::new()
    }
}

impl InternalAlloc {
    /// An allocator with no memory yet.
    pub const fn new() -> InternalAlloc {
        InternalAlloc {
            state: SpinLock::new(ClassesCell(Classes {
                free: [0; CLASSES],
                bump: 0,
                bump_end: 0,
                reserve_start: 0,
                reserve_end: 0,
                reserve_next: 0,
                reserve_tried: false,
                big_free: 0,
            })),
        }
    }

    /// Reserves the allocator's address space now (at start-up, before the program
    /// can limit it); otherwise the first allocation does.
    pub fn reserve(&self) {
        self.state.lock().0.reserve();
    }

    /// Holds the allocator's lock until [`InternalAlloc::unlock_all`] (before `fork`,
    /// so the child never inherits it held by a thread it does not have).
    pub fn lock_all(&self) {
        core::mem::forget(self.state.lock());
    }

    /// Releases the lock taken by [`InternalAlloc::lock_all`].
    ///
    /// # Safety
    ///
    /// The caller must hold it through `lock_all`.
    pub unsafe fn unlock_all(&self) {
        // SAFETY: forwarded from the caller.
        unsafe { self.state.force_unlock() };
    }

    fn class(layout: &Layout) -> Option<usize> {
        let size = layout
            .size()
            .max(layout.align())
            .max(16)
            .next_power_of_two();
        let c = size.trailing_zeros() as usize - 4;
        (c < CLASSES && layout.align() <= 4096).then_some(c)
    }
}

// SAFETY: blocks come from private anonymous mappings; each is handed to one owner
// until it is returned, and class blocks are aligned to their power-of-two size
// (chunks are page-aligned and carved at multiples of the block size).
unsafe impl GlobalAlloc for InternalAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let Some(c) = Self::class(&layout) else {
            let len = layout.size().next_multiple_of(4096);
            match map_anonymous(len) {
                Some(p) if p % layout.align() == 0 => return p as *mut u8,
                Some(p) => {
                    // SAFETY: the mapping just made, unused.
                    unsafe { crate::sys::munmap(p as *mut libc::c_void, len) };
                }
                None => {}
            }
            let align = layout.align().max(4096);
            let mut s = self.state.lock();
            return s
                .0
                .big_from_reserve(len, align)
                .map_or(ptr::null_mut(), |p| p as *mut u8);
        };
        let size = 16usize << c;
        let mut s = self.state.lock();
        let s = &mut s.0;
        if s.free[c] != 0 {
            let p = s.free[c];
            // SAFETY: free blocks hold the next link in their first word.
            s.free[c] = unsafe { *(p as *const usize) };
            return p as *mut u8;
        }
        let start = s.bump.next_multiple_of(size);
        if start + size > s.bump_end || s.bump == 0 {
            let Some(chunk) = s.chunk() else {
                return ptr::null_mut();
            };
            s.bump = chunk + size;
            s.bump_end = chunk + CHUNK;
            return chunk as *mut u8;
        }
        s.bump = start + size;
        start as *mut u8
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        let Some(c) = Self::class(&layout) else {
            let len = layout.size().next_multiple_of(4096);
            let mut s = self.state.lock();
            if s.0.in_reserve(p as usize) {
                // SAFETY: a big block carved from the reservation, ours again, at
                // least a page long: its pages go back to the kernel (they read as
                // zero) and its first two words become the free-list link and length.
                unsafe {
                    libc::madvise(p.cast(), len, libc::MADV_DONTNEED);
                    *(p as *mut usize) = s.0.big_free;
                    *(p.add(8) as *mut usize) = len;
                }
                s.0.big_free = p as usize;
                return;
            }
            drop(s);
            // SAFETY: other big blocks are whole mappings of this rounded length.
            unsafe { crate::sys::munmap(p.cast(), len) };
            return;
        };
        let mut s = self.state.lock();
        // SAFETY: the block is at least 16 bytes and is ours again; its first word
        // becomes the free-list link.
        unsafe { *(p as *mut usize) = s.0.free[c] };
        s.0.free[c] = p as usize;
    }
}
