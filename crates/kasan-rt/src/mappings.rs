//! The program's own mappings beside the runtime's: `mmap`, `mmap64`, `munmap` and
//! `mremap`, interposed.
//!
//! The heap arena, the vmalloc space, the tagged heap and the shadow are mappings
//! the runtime reserved at start-up. A program may map memory of its own over freed
//! heap memory with `MAP_FIXED` (ASan's and glibc's large allocators give such memory
//! back to the system, and compiler-rt's `large_allocator_unpoisons_on_free` maps over
//! it): in generic mode those pages are first withdrawn from the arena, so the heap
//! never hands them out or writes its free-list links there, and their shadow says
//! accessible, as ASan's `mmap` interceptor leaves a new mapping's. When the program
//! unmaps them, fresh zeroed memory is mapped there in the same call (no hole in the
//! arena, nothing another thread could be given meanwhile) and the pages go back to
//! the heap, poisoned as free pages: a later access is reported, not a crash.
//!
//! A call that would replace or remove memory the runtime still uses — a live or
//! quarantined heap block, allocator metadata, the vmalloc space, the tagged heap,
//! the shadow — is refused with one `kasan:` line and changes nothing: `mmap` fails
//! with `ENOMEM`, `munmap` and `mremap` with `EINVAL`. Every other call goes straight
//! to the kernel, untouched (the runtime's own mappings go through
//! `kasan_hosted::sys`, never through these).

use core::ffi::{c_int, c_void};

use kasan_hosted::memory::{self, SHADOW_OFFSET, USER_END};
use kasan_hosted::sys;
use kasan_slab::WithdrawError;

use crate::runtime::{self, format_into, RunMode, HEAP};

const PAGE: usize = 4096;

/// What a range of the program's call touches.
enum Touch {
    /// Nothing of the runtime's.
    Nothing,
    /// The main heap arena at `[lo, hi)` (page-aligned), nothing else of the runtime's.
    Heap(usize, usize),
    /// Memory the runtime reserved for itself, which the program may not replace.
    Reserved(&'static str),
}

/// `[a, b)` ∩ `[lo, hi)`, if not empty.
fn overlap(a: usize, b: usize, lo: usize, hi: usize) -> Option<(usize, usize)> {
    let (x, y) = (a.max(lo), b.min(hi));
    (x < y).then_some((x, y))
}

/// What `[addr, addr + len)` (page-aligned by the caller) touches.
fn touch(addr: usize, len: usize) -> Touch {
    let end = addr.saturating_add(len);
    let shadow_end = SHADOW_OFFSET + (USER_END >> 3) + PAGE;
    if kasan_hosted::memory::shadow_mapped()
        && overlap(addr, end, SHADOW_OFFSET, shadow_end).is_some()
    {
        return Touch::Reserved("the runtime's shadow memory");
    }
    if !runtime::ready() {
        return Touch::Nothing;
    }
    match runtime::mode() {
        RunMode::SwTags => {
            if let Some(t) = kasan_hosted::tagged::get() {
                if overlap(addr, end, t.base(), t.base() + t.region_len()).is_some() {
                    return Touch::Reserved("the tagged heap");
                }
                let s = t.shadow_base();
                if overlap(addr, end, s, s + t.shadow_len()).is_some() {
                    return Touch::Reserved("the tag shadow");
                }
            }
            Touch::Nothing
        }
        RunMode::Generic => {
            let [main, vmap] = HEAP.arena_ranges();
            if let Some((lo, hi)) = vmap {
                if overlap(addr, end, lo, hi).is_some() {
                    return Touch::Reserved("the vmalloc space");
                }
            }
            match main.and_then(|(lo, hi)| overlap(addr, end, lo, hi)) {
                Some((lo, hi)) => Touch::Heap(lo, hi),
                None => Touch::Nothing,
            }
        }
    }
}

fn set_errno(e: c_int) {
    // SAFETY: `__errno_location` gives this thread's errno.
    unsafe { *libc::__errno_location() = e };
}

fn warn(args: core::fmt::Arguments<'_>) {
    let mut buf = [0u8; 320];
    kasan_hosted::output::write_message::<1024>(format_into(&mut buf, args));
}

/// Why the heap refused: the words of the warning.
fn why(e: WithdrawError) -> &'static str {
    match e {
        WithdrawError::Live(_) => "heap memory in use (a live or quarantined block)",
        WithdrawError::Metadata => "the heap's allocator metadata",
        WithdrawError::Busy => "the heap, busy in this thread (a signal handler)",
    }
}

/// Maps fresh zeroed memory over `[lo, hi)` of the arena, as the arena's own
/// reservation is (the program's mapping there goes, in one call).
fn remap_fresh(lo: usize, hi: usize) -> bool {
    // SAFETY: `[lo, hi)` lies in the heap arena and its pages are withdrawn: nothing
    // of the runtime's is there, and the program is unmapping what it had there.
    let p = unsafe {
        sys::mmap(
            lo as *mut c_void,
            hi - lo,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_FIXED,
            -1,
            0,
        )
    };
    p as usize == lo
}

/// Gives withdrawn arena pages back to the heap once fresh memory is mapped there.
fn give_back(lo: usize, hi: usize) {
    if remap_fresh(lo, hi) {
        // Busy (a signal handler interrupted the arena): the pages stay withdrawn, their
        // fresh memory unused; nothing is lost but the address space.
        let _ = HEAP.restore(lo, hi);
    }
}

/// `void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)`.
///
/// # Safety
///
/// As `mmap`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mmap(
    addr: *mut c_void,
    len: usize,
    prot: c_int,
    flags: c_int,
    fd: c_int,
    off: libc::off_t,
) -> *mut c_void {
    // SAFETY: the program's call.
    let p = unsafe { map(addr, len, prot, flags, fd, off) };
    if p != libc::MAP_FAILED {
        memory::mark_low_mapping(p as usize, len, true);
    }
    p
}

/// `mmap` but for the low range's shadow.
///
/// # Safety
///
/// As `mmap`.
unsafe fn map(
    addr: *mut c_void,
    len: usize,
    prot: c_int,
    flags: c_int,
    fd: c_int,
    off: libc::off_t,
) -> *mut c_void {
    // Only a fixed mapping can land on the runtime's reservations: the kernel places
    // any other one where nothing is mapped (and MAP_FIXED_NOREPLACE fails there).
    let fixed = flags & libc::MAP_FIXED != 0 && flags & libc::MAP_FIXED_NOREPLACE == 0;
    if !fixed || len == 0 || !(addr as usize).is_multiple_of(PAGE) {
        // SAFETY: the program's call, passed on as it is.
        return unsafe { sys::mmap(addr, len, prot, flags, fd, off) };
    }
    let start = addr as usize;
    let size = len.next_multiple_of(PAGE);
    match touch(start, size) {
        Touch::Nothing => {
            // SAFETY: as above.
            unsafe { sys::mmap(addr, len, prot, flags, fd, off) }
        }
        Touch::Reserved(what) => {
            warn(format_args!(
                "kasan: mmap({addr:p}, {len:#x}, MAP_FIXED) would replace {what}: refused (ENOMEM)\n"
            ));
            set_errno(libc::ENOMEM);
            libc::MAP_FAILED
        }
        Touch::Heap(lo, hi) => {
            if let Err(e) = HEAP.withdraw(lo, hi) {
                warn(format_args!(
                    "kasan: mmap({addr:p}, {len:#x}, MAP_FIXED) would replace {}: refused (ENOMEM)\n",
                    why(e)
                ));
                set_errno(libc::ENOMEM);
                return libc::MAP_FAILED;
            }
            // SAFETY: the arena's part of the range is withdrawn: the program's to map.
            let p = unsafe { sys::mmap(addr, len, prot, flags, fd, off) };
            if p == libc::MAP_FAILED {
                // A failed MAP_FIXED may have unmapped part of the range already.
                // SAFETY: `__errno_location` gives this thread's errno.
                let e = unsafe { *libc::__errno_location() };
                give_back(lo, hi);
                set_errno(e);
            }
            p
        }
    }
}

/// `void *mmap64(...)`: the same on x86-64.
///
/// # Safety
///
/// As `mmap`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mmap64(
    addr: *mut c_void,
    len: usize,
    prot: c_int,
    flags: c_int,
    fd: c_int,
    off: libc::off_t,
) -> *mut c_void {
    // SAFETY: forwarded.
    unsafe { mmap(addr, len, prot, flags, fd, off) }
}

/// `int munmap(void *addr, size_t len)`.
///
/// # Safety
///
/// As `munmap`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn munmap(addr: *mut c_void, len: usize) -> c_int {
    // SAFETY: the program's call.
    let r = unsafe { unmap(addr, len) };
    if r == 0 {
        memory::mark_low_mapping(addr as usize, len, false);
    }
    r
}

/// `munmap` but for the low range's shadow.
///
/// # Safety
///
/// As `munmap`.
unsafe fn unmap(addr: *mut c_void, len: usize) -> c_int {
    if len == 0 || !(addr as usize).is_multiple_of(PAGE) {
        // SAFETY: the program's call, passed on (the kernel refuses it).
        return unsafe { sys::munmap(addr, len) };
    }
    let start = addr as usize;
    let end = start.saturating_add(len.next_multiple_of(PAGE));
    match touch(start, end - start) {
        Touch::Nothing => {
            // SAFETY: as above.
            unsafe { sys::munmap(addr, len) }
        }
        Touch::Reserved(what) => {
            warn(format_args!(
                "kasan: munmap({addr:p}, {len:#x}) would unmap {what}: refused (EINVAL)\n"
            ));
            set_errno(libc::EINVAL);
            -1
        }
        Touch::Heap(lo, hi) => {
            // Free pages are withdrawn first (their links would go with them); live
            // ones are not the program's to unmap.
            if let Err(e) = HEAP.withdraw(lo, hi) {
                warn(format_args!(
                    "kasan: munmap({addr:p}, {len:#x}) would unmap {}: refused (EINVAL)\n",
                    why(e)
                ));
                set_errno(libc::EINVAL);
                return -1;
            }
            // The parts outside the arena are unmapped; the arena's part gets fresh
            // memory in place of the program's mapping.
            for (a, b) in [(start, lo), (hi, end)] {
                if a < b {
                    // SAFETY: the program's own range, outside the runtime's.
                    unsafe { sys::munmap(a as *mut c_void, b - a) };
                }
            }
            give_back(lo, hi);
            0
        }
    }
}

/// `void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...)`, the
/// fifth argument (`new_address`) read only with `MREMAP_FIXED`: on x86-64 a variadic
/// caller passes it where a fixed fifth argument is. Mappings of the runtime's, and
/// the program's mappings inside the heap arena (moving one would leave a hole), are
/// not moved or resized.
///
/// # Safety
///
/// As `mremap`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mremap(
    old: *mut c_void,
    old_len: usize,
    new_len: usize,
    flags: c_int,
    new_addr: *mut c_void,
) -> *mut c_void {
    let target = if flags & libc::MREMAP_FIXED != 0 {
        new_addr
    } else {
        core::ptr::null_mut()
    };
    if (old as usize).is_multiple_of(PAGE) {
        let old_end = (old as usize).saturating_add(old_len.max(1).next_multiple_of(PAGE));
        let from = touch(old as usize, old_end - old as usize);
        let to = if target.is_null() || !(target as usize).is_multiple_of(PAGE) {
            Touch::Nothing
        } else {
            touch(target as usize, new_len.max(1).next_multiple_of(PAGE))
        };
        for t in [from, to] {
            let what = match t {
                Touch::Nothing => continue,
                Touch::Reserved(what) => what,
                Touch::Heap(..) => "heap memory",
            };
            warn(format_args!(
                "kasan: mremap({old:p}, {old_len:#x}, {new_len:#x}) would move or replace {what}: refused (EINVAL)\n"
            ));
            set_errno(libc::EINVAL);
            return libc::MAP_FAILED;
        }
    }
    // SAFETY: the program's call, passed on as it is.
    let p = unsafe { sys::mremap(old, old_len, new_len, flags, target) };
    if p != libc::MAP_FAILED {
        // The old range's pages moved (or stayed, in the part the new one keeps).
        memory::mark_low_mapping(old as usize, old_len, false);
        memory::mark_low_mapping(p as usize, new_len, true);
    }
    p
}
