//! The runtime's own `mmap`, `munmap` and `mremap`: system calls made directly, not
//! through the C library's functions. The runtime exports `mmap` and `munmap` to the
//! program (they keep its mappings off the heap arena), so every mapping the runtime
//! makes for itself (shadow, arenas, the tagged region, its allocator) goes through
//! here instead, where nothing can refuse or redirect it.
//!
//! Each function has the C library's signature and result: `MAP_FAILED` (or -1) with
//! `errno` set on failure.
//!
//! # Safety
//!
//! The callers' promises are those of the system calls: each names the range it owns.
#![allow(unsafe_code)]

use libc::{c_int, c_long, c_void, off_t};

// glibc's `syscall` turns a failure (`-errno`) into -1 with `errno` set, which for
// `mmap` and `mremap` is `MAP_FAILED`. Every argument is passed as a full register
// (`syscall` is variadic).

/// `mmap(2)`.
///
/// # Safety
///
/// As `mmap`: a `MAP_FIXED` mapping replaces whatever was at the range.
pub unsafe fn mmap(
    addr: *mut c_void,
    len: usize,
    prot: c_int,
    flags: c_int,
    fd: c_int,
    offset: off_t,
) -> *mut c_void {
    // SAFETY: forwarded from the caller.
    let r = unsafe {
        libc::syscall(
            libc::SYS_mmap,
            addr as c_long,
            len as c_long,
            prot as c_long,
            flags as c_long,
            fd as c_long,
            offset as c_long,
        )
    };
    r as *mut c_void
}

/// `munmap(2)`.
///
/// # Safety
///
/// The range must hold nothing still in use.
pub unsafe fn munmap(addr: *mut c_void, len: usize) -> c_int {
    // SAFETY: forwarded from the caller.
    let r = unsafe { libc::syscall(libc::SYS_munmap, addr as c_long, len as c_long) };
    r as c_int
}

/// `mremap(2)` (with `new_addr` for `MREMAP_FIXED`).
///
/// # Safety
///
/// As `mremap`.
pub unsafe fn mremap(
    old: *mut c_void,
    old_len: usize,
    new_len: usize,
    flags: c_int,
    new_addr: *mut c_void,
) -> *mut c_void {
    // SAFETY: forwarded from the caller.
    let r = unsafe {
        libc::syscall(
            libc::SYS_mremap,
            old as c_long,
            old_len as c_long,
            new_len as c_long,
            flags as c_long,
            new_addr as c_long,
        )
    };
    r as *mut c_void
}
