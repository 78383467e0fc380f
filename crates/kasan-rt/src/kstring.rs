//! Linux's kernel string and user-copy API, for kernel code moved into a test
//! harness (declared in `include/kasan.h` with Linux's names and signatures), each
//! checked as Linux's instrumented implementation checks it:
//!
//! - `strscpy`, `memscan`, `strnchr` are byte loops in Linux's `lib/string.c`: every
//!   byte checked as it is read or written, the report naming the function itself
//!   (`Read of size 1` at the first bad byte). Linux's `strscpy` reads a word at a
//!   time where it can and checks only the first byte of each word; here every byte
//!   is checked (what its byte loop does), so the report gives the first bad byte.
//! - `strlcpy`, `strlcat`, `kstrdup`, `kstrndup`, `kmemdup`, `strsep` are built, as
//!   in Linux, on `strlen`/`strnlen`/`strpbrk`, `kmalloc` and `memcpy`: their reports
//!   come from those (`in strlen` with `kstrdup` below it, or `in kmemdup` from its
//!   range-checked `memcpy`). Linux's `strlcat` has a `BUG_ON` when the destination
//!   string already fills the buffer; this one returns without copying.
//! - `copy_to_user`, `copy_from_user` check the kernel side as Linux's
//!   `instrument_copy_to_user`/`instrument_copy_from_user` do: the whole range at
//!   entry, the report naming the caller (x86-64 inlines them). `strncpy_from_user`
//!   checks its whole destination (`count` bytes) at entry, as Linux's does, the
//!   report naming itself. In a hosted process "user memory" is ordinary memory of
//!   the process: it is not checked against the shadow (Linux never checks user
//!   memory either), and it is accessed through the kernel (`process_vm_readv` /
//!   `process_vm_writev`), so an unmapped user address makes the copy come short, as
//!   a fault does in Linux, instead of crashing. After a report the copy stops at
//!   the first bad kernel byte: the uncopied rest is what the functions return.
#![allow(unsafe_code)]

use core::ffi::{c_char, c_int, c_long, c_void};

use kasan_hosted::task::frame_pointer;

use crate::strings::{
    self, copy_until, find_byte, here, prefix, scan_bytes, store, Copy, Scan, Site,
};

/// Linux's `E2BIG`.
const E2BIG: isize = 7;
/// Linux's `EFAULT`.
const EFAULT: c_long = 14;

/// The kmalloc entry, called through a pointer the optimiser cannot see through, so
/// that the allocation's stack starts in the function that calls it (`kstrdup`), as
/// Linux's `kmalloc_track_caller` records.
fn kmalloc_entry() -> extern "C" fn(usize, u32) -> *mut c_void {
    core::hint::black_box(crate::alloc_api::kmalloc as extern "C" fn(usize, u32) -> *mut c_void)
}

/// `ssize_t strscpy(char *dst, const char *src, size_t count)`: copies the string
/// and its NUL if they fit in `count` bytes and returns its length, else copies
/// `count - 1` bytes, ends `dst` with a NUL and returns `-E2BIG`.
///
/// # Safety
///
/// As Linux's `strscpy`.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "C" fn strscpy(dst: *mut c_char, src: *const c_char, count: usize) -> isize {
    let site = here!();
    let d: *mut u8 = dst.cast();
    if count == 0 || count > i32::MAX as usize {
        return -E2BIG;
    }
    // SAFETY: the caller promises `count` writable bytes and a source terminated or
    // `count` bytes long.
    unsafe {
        match copy_until(site, d, src.cast(), count, 0) {
            Copy::Hit(i) => i as isize,
            Copy::Full => {
                store(site, d.add(count - 1), 0, true);
                -E2BIG
            }
            Copy::Bad { at, src: true } => {
                store(site, d.add(at), 0, true);
                at as isize
            }
            Copy::Bad { at, src: false } => {
                if at > 0 {
                    store(site, d.add(at - 1), 0, true);
                }
                -E2BIG
            }
        }
    }
}

/// `size_t strlcpy(char *dst, const char *src, size_t size)`: Linux's, `strlen` of
/// the source, then `memcpy` of what fits and a NUL.
///
/// # Safety
///
/// As Linux's `strlcpy`.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "C" fn strlcpy(dst: *mut c_char, src: *const c_char, size: usize) -> usize {
    let site = here!();
    // SAFETY: the caller promises a terminated source and `size` writable bytes.
    unsafe {
        let ret = strings::strlen(src);
        if size > 0 {
            let len = ret.min(size - 1);
            if len == 0 || !strings::memcpy(dst.cast(), src.cast(), len).is_null() {
                store(site, dst.cast::<u8>().add(len), 0, false);
            }
        }
        ret
    }
}

/// `size_t strlcat(char *dst, const char *src, size_t count)`: Linux's, `strlen` of
/// both, then `memcpy` of what fits after the destination's string and a NUL.
/// Returns the length it tried to create. Where Linux's `BUG_ON`s (the destination's
/// string does not fit in `count`), nothing is copied.
///
/// # Safety
///
/// As Linux's `strlcat`.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "C" fn strlcat(dst: *mut c_char, src: *const c_char, count: usize) -> usize {
    let site = here!();
    // SAFETY: the caller promises two terminated strings and `count` bytes at `dst`.
    unsafe {
        let dsize = strings::strlen(dst);
        let len = strings::strlen(src);
        let res = dsize + len;
        if dsize >= count {
            return res;
        }
        let d = dst.add(dsize);
        let len = len.min(count - dsize - 1);
        if len == 0 || !strings::memcpy(d.cast(), src.cast(), len).is_null() {
            store(site, d.cast::<u8>().add(len), 0, false);
        }
        res
    }
}

/// `char *kstrdup(const char *s, gfp_t gfp)`: Linux's, `strlen`, `kmalloc`, `memcpy`.
///
/// # Safety
///
/// `s` NULL or a terminated string.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "C" fn kstrdup(s: *const c_char, gfp: u32) -> *mut c_char {
    if s.is_null() {
        return core::ptr::null_mut();
    }
    // SAFETY: the caller promises a terminated string.
    unsafe {
        let len = strings::strlen(s);
        strings::dup_bytes(s.cast(), len, |n| kmalloc_entry()(n, gfp))
    }
}

/// `char *kstrndup(const char *s, size_t max, gfp_t gfp)`: `strnlen`, then as
/// `kstrdup`.
///
/// # Safety
///
/// `s` NULL or a string terminated or `max` bytes long.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "C" fn kstrndup(s: *const c_char, max: usize, gfp: u32) -> *mut c_char {
    if s.is_null() {
        return core::ptr::null_mut();
    }
    // SAFETY: the caller promises a string terminated or `max` bytes long.
    unsafe {
        let len = strings::strnlen(s, max);
        strings::dup_bytes(s.cast(), len, |n| kmalloc_entry()(n, gfp))
    }
}

/// `void *kmemdup(const void *src, size_t len, gfp_t gfp)`: `kmalloc`, then a
/// `memcpy` checked at entry, so a bad source is reported `in kmemdup` (as in real
/// reports: `BUG: KASAN: slab-out-of-bounds in kmemdup+0x3e/0x50`, `Read of size N`).
/// After a report the new object is returned uncopied, as Linux's is.
///
/// # Safety
///
/// `len` readable bytes at `src`.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "C" fn kmemdup(src: *const c_void, len: usize, gfp: u32) -> *mut c_void {
    let p = kmalloc_entry()(len, gfp);
    if !p.is_null() && p as usize > 16 {
        // SAFETY: `p` holds `len` bytes; the caller promises `src` has them.
        unsafe { strings::memcpy(p, src, len) };
    }
    p
}

/// `void *memscan(void *addr, int c, size_t size)`: the first `c` in `size` bytes,
/// or `addr + size`.
///
/// # Safety
///
/// `size` readable bytes at `addr` (or a `c` before).
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "C" fn memscan(addr: *mut c_void, c: c_int, size: usize) -> *mut c_void {
    let site = here!();
    let p = addr as *const u8;
    // SAFETY: forwarded from the caller.
    match unsafe { scan_bytes(site, p, size, |_, b| b == c as u8) } {
        Scan::Stopped(i) => p.wrapping_add(i) as *mut c_void,
        Scan::Exhausted | Scan::Bad(_) => p.wrapping_add(size) as *mut c_void,
    }
}

/// `char *strnchr(const char *s, size_t count, int c)`: the first `c` in the
/// string's first `count` bytes.
///
/// # Safety
///
/// A string terminated or `count` bytes long.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "C" fn strnchr(s: *const c_char, count: usize, c: c_int) -> *mut c_char {
    let site = here!();
    // SAFETY: forwarded from the caller.
    unsafe { find_byte(site, s.cast(), count, c as u8) }
}

/// `char *strsep(char **s, const char *ct)`: Linux's, `*s` read (8 bytes), the
/// delimiter found with `strpbrk` and overwritten with a NUL, `*s` written.
///
/// # Safety
///
/// As C's `strsep`.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "C" fn strsep(s: *mut *mut c_char, ct: *const c_char) -> *mut c_char {
    let site = here!();
    if !site.check_read(s as usize, 8) {
        return core::ptr::null_mut();
    }
    // SAFETY: checked (or promised); the string and `ct` are promised terminated.
    unsafe {
        let begin = *s;
        if begin.is_null() {
            return begin;
        }
        let mut end = strings::strpbrk(begin, ct);
        if !end.is_null() {
            if !store(site, end.cast(), 0, false) {
                return begin;
            }
            end = end.add(1);
        }
        if site.check_write(s as usize, 8) {
            *s = end;
        }
        begin
    }
}

/// Copies `n` bytes from `local` to `remote` (`to_remote`) or back through the
/// kernel, which fails on unmapped memory instead of faulting; the bytes copied.
/// Where the kernel refuses (a seccomp filter), a plain copy.
///
/// # Safety
///
/// `n` bytes of `local` accessible (writable when `!to_remote`).
unsafe fn copy_user(local: *mut u8, remote: *mut u8, n: usize, to_remote: bool) -> usize {
    if n == 0 {
        return 0;
    }
    let l = libc::iovec {
        iov_base: local.cast(),
        iov_len: n,
    };
    let r = libc::iovec {
        iov_base: remote.cast(),
        iov_len: n,
    };
    // SAFETY: one local and one remote iovec describing the caller's ranges; the
    // kernel checks the remote one, and the local one is promised.
    let done = unsafe {
        let pid = libc::getpid();
        if to_remote {
            libc::process_vm_writev(pid, &l, 1, &r, 1, 0)
        } else {
            libc::process_vm_readv(pid, &l, 1, &r, 1, 0)
        }
    };
    if done >= 0 {
        return done as usize;
    }
    // SAFETY: reads errno of this thread.
    let errno = unsafe { *libc::__errno_location() };
    if errno == libc::ENOSYS || errno == libc::EPERM {
        // SAFETY: no way to catch a fault here: copy as a kernel without fault
        // handling would (the caller promised the ranges).
        unsafe {
            if to_remote {
                core::ptr::copy(local, remote, n);
            } else {
                core::ptr::copy(remote, local, n);
            }
        }
        return n;
    }
    0
}

/// `unsigned long copy_to_user(void __user *to, const void *from, unsigned long n)`:
/// the kernel side (`from`, read) checked whole at entry; returns the bytes not
/// copied.
///
/// # Safety
///
/// `n` readable bytes at `from`.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "C" fn copy_to_user(to: *mut c_void, from: *const c_void, n: usize) -> usize {
    // SAFETY: the caller's promise.
    unsafe { copy_to_user_at(to, from, n, frame_pointer()) }
}

/// [`copy_to_user`] for the caller of the entry point whose frame is `fp`.
///
/// # Safety
///
/// As [`copy_to_user`].
#[inline(always)]
unsafe fn copy_to_user_at(to: *mut c_void, from: *const c_void, n: usize, fp: usize) -> usize {
    let site = Site::caller(fp);
    let k = if site.check_read(from as usize, n) {
        n
    } else {
        prefix(from as usize, n)
    };
    // SAFETY: `k` good bytes at `from`; the user side goes through the kernel.
    n - unsafe { copy_user(from.cast_mut().cast(), to.cast(), k, true) }
}

/// `unsigned long copy_from_user(void *to, const void __user *from, unsigned long n)`:
/// the kernel side (`to`, written) checked whole at entry; returns the bytes not
/// copied, whose place in `to` is zeroed, as Linux does.
///
/// # Safety
///
/// `n` writable bytes at `to`.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "C" fn copy_from_user(to: *mut c_void, from: *const c_void, n: usize) -> usize {
    // SAFETY: the caller's promise.
    unsafe { copy_from_user_at(to, from, n, frame_pointer()) }
}

/// [`copy_from_user`] for the caller of the entry point whose frame is `fp`.
///
/// # Safety
///
/// As [`copy_from_user`].
#[inline(always)]
unsafe fn copy_from_user_at(to: *mut c_void, from: *const c_void, n: usize, fp: usize) -> usize {
    let site = Site::caller(fp);
    let k = if site.check_write(to as usize, n) {
        n
    } else {
        prefix(to as usize, n)
    };
    // SAFETY: `k` good bytes at `to`; the user side goes through the kernel.
    let done = unsafe { copy_user(to.cast(), from.cast_mut().cast(), k, false) };
    if done < k {
        // SAFETY: inside the `k` good bytes.
        unsafe { core::ptr::write_bytes(to.cast::<u8>().add(done), 0, k - done) };
    }
    n - done
}

/// `long strncpy_from_user(char *dst, const char __user *src, long count)`: the
/// whole destination (`count` bytes) checked at entry, as Linux's does
/// (`kasan_check_write`), the report naming this function; then the user string
/// copied through the kernel up to its NUL. Returns its length, `count` if it has no
/// NUL in `count` bytes, `-EFAULT` if the user memory ends first (or, after a
/// report, the good part of the destination does).
///
/// # Safety
///
/// `count` writable bytes at `dst`.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "C" fn strncpy_from_user(
    dst: *mut c_char,
    src: *const c_char,
    count: c_long,
) -> c_long {
    let site = here!();
    if count <= 0 {
        return 0;
    }
    let count = count as usize;
    let limit = if site.check_write(dst as usize, count) {
        count
    } else {
        prefix(dst as usize, count)
    };
    let mut chunk = [0u8; 64];
    let mut i = 0;
    while i < limit {
        let want = chunk.len().min(limit - i);
        // SAFETY: `chunk` is ours; the user side goes through the kernel.
        let got = unsafe {
            copy_user(
                chunk.as_mut_ptr(),
                src.cast_mut().cast::<u8>().add(i),
                want,
                false,
            )
        };
        if got == 0 {
            return -EFAULT;
        }
        for (j, &b) in chunk[..got].iter().enumerate() {
            // SAFETY: inside the `limit` good bytes of `dst`.
            unsafe { *dst.cast::<u8>().add(i + j) = b };
            if b == 0 {
                return (i + j) as c_long;
            }
        }
        i += got;
    }
    if limit < count {
        -EFAULT
    } else {
        count as c_long
    }
}

macro_rules! user_copy_aliases {
    ($($(#[$doc:meta])* $name:ident => $inner:ident;)*) => {$(
        $(#[$doc])*
        ///
        /// # Safety
        ///
        /// As the checked copy it forwards to.
        #[unsafe(no_mangle)]
        #[inline(never)]
        pub unsafe extern "C" fn $name(to: *mut c_void, from: *const c_void, n: usize) -> usize {
            // SAFETY: the caller's promise.
            unsafe { $inner(to, from, n, frame_pointer()) }
        }
    )*};
}

user_copy_aliases! {
    /// `__copy_from_user`: Linux's variant without `access_ok` (a hosted process has
    /// no user/kernel split to check); the same KASAN check as `copy_from_user`.
    __copy_from_user => copy_from_user_at;
    /// `__copy_to_user`, as `copy_to_user`.
    __copy_to_user => copy_to_user_at;
    /// `__copy_from_user_inatomic`: may not sleep (nothing here does).
    __copy_from_user_inatomic => copy_from_user_at;
    /// `__copy_to_user_inatomic`.
    __copy_to_user_inatomic => copy_to_user_at;
}

/// `long copy_to_kernel_nofault(void *dst, const void *src, size_t size)`: Linux
/// checks the destination whole at entry (`instrument_write`) and reads the source
/// in instrumented code; both are checked here at entry, each reported at its first
/// bad byte. The copy goes through the kernel so a bad address is `-EFAULT`, not a
/// crash; only the part both checks passed is copied after a report.
///
/// # Safety
///
/// None beyond the checks: unmapped addresses return `-EFAULT`.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "C" fn copy_to_kernel_nofault(
    dst: *mut c_void,
    src: *const c_void,
    size: usize,
) -> c_long {
    let site = Site::caller(frame_pointer());
    let w = if site.check_write(dst as usize, size) {
        size
    } else {
        prefix(dst as usize, size)
    };
    let r = if site.check_read(src as usize, size) {
        size
    } else {
        prefix(src as usize, size)
    };
    let k = w.min(r);
    let mut chunk = [0u8; 256];
    let mut i = 0;
    while i < k {
        let want = chunk.len().min(k - i);
        // SAFETY: `chunk` is ours; both sides go through the kernel, which checks them.
        let got = unsafe {
            copy_user(
                chunk.as_mut_ptr(),
                src.cast_mut().cast::<u8>().add(i),
                want,
                false,
            )
        };
        // SAFETY: as above.
        let put = unsafe { copy_user(chunk.as_mut_ptr(), dst.cast::<u8>().add(i), got, true) };
        if got < want || put < got {
            return -(libc::EFAULT as c_long);
        }
        i += want;
    }
    if k < size {
        -(libc::EFAULT as c_long)
    } else {
        0
    }
}
