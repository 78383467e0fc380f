//! Checked memory and string functions. The program's calls to `memcpy`, `strlen`,
//! ... land here (the library defines the C names, so the linker binds them before
//! libc's); clang's `__asan_mem*` calls too. Each checks the bytes it will touch,
//! then does the work: copies and fills with the string instructions (`rep movsb`,
//! `rep stosb`, fast on every x86-64 with ERMS), the string scans here. Nothing
//! calls libc's versions: in a static program those may call back into these.
//!
//! As in Linux, when a check of a copy or fill reports a bug, the operation is
//! skipped and NULL returned, so the bad write never lands.
//!
//! This crate is `no_builtins`: the loops below are never turned into calls to the
//! very functions they implement.
#![allow(unsafe_code)]

use core::ffi::{c_char, c_int, c_void};

use kasan_hosted::task::frame_pointer;

use crate::runtime::{check, ready};

/// Copies `len` bytes forwards.
///
/// # Safety
///
/// `src..src+len` readable, `dst..dst+len` writable; if they overlap, `dst <= src`.
#[inline(always)]
unsafe fn copy_forward(dst: *mut u8, src: *const u8, len: usize) {
    // SAFETY: forwarded from the caller; the direction flag is clear (ABI).
    unsafe {
        core::arch::asm!(
            "rep movsb",
            inout("rcx") len => _,
            inout("rdi") dst => _,
            inout("rsi") src => _,
            options(nostack, preserves_flags)
        )
    };
}

/// Copies `len` bytes backwards (for overlapping moves to a higher address).
///
/// # Safety
///
/// `src..src+len` readable, `dst..dst+len` writable, `len > 0`.
#[inline(always)]
unsafe fn copy_backward(dst: *mut u8, src: *const u8, len: usize) {
    // SAFETY: forwarded from the caller; the direction flag is set only around the
    // copy and cleared again, as the ABI requires at calls and returns.
    unsafe {
        core::arch::asm!(
            "std",
            "rep movsb",
            "cld",
            inout("rcx") len => _,
            inout("rdi") dst.add(len - 1) => _,
            inout("rsi") src.add(len - 1) => _,
            options(nostack)
        )
    };
}

/// Fills `len` bytes with `byte`.
///
/// # Safety
///
/// `dst..dst+len` writable.
#[inline(always)]
unsafe fn fill(dst: *mut u8, byte: u8, len: usize) {
    // SAFETY: forwarded from the caller; the direction flag is clear (ABI).
    unsafe {
        core::arch::asm!(
            "rep stosb",
            inout("rcx") len => _,
            inout("rdi") dst => _,
            in("al") byte,
            options(nostack, preserves_flags)
        )
    };
}

/// Moves `len` bytes, overlapping or not.
///
/// # Safety
///
/// `src..src+len` readable, `dst..dst+len` writable.
unsafe fn move_bytes(dst: *mut u8, src: *const u8, len: usize) {
    if len == 0 {
        return;
    }
    if (dst as usize) <= (src as usize) || (dst as usize) >= (src as usize) + len {
        // SAFETY: forwarded; no harmful overlap in this direction.
        unsafe { copy_forward(dst, src, len) };
    } else {
        // SAFETY: forwarded; `len > 0`.
        unsafe { copy_backward(dst, src, len) };
    }
}

/// Checks a read of `[src, src + len)` and a write of `[dst, dst + len)`.
#[inline(always)]
fn check_copy(dst: usize, src: usize, len: usize, fp: usize) -> bool {
    check(src, len, false, fp) && check(dst, len, true, fp)
}

fn do_memcpy(dst: *mut c_void, src: *const c_void, len: usize, fp: usize) -> *mut c_void {
    if !check_copy(dst as usize, src as usize, len, fp) {
        return core::ptr::null_mut();
    }
    // SAFETY: the caller promised valid ranges (and they checked out when checks are
    // on). C's memcpy forbids overlap; a move tolerates it anyway.
    unsafe { move_bytes(dst.cast(), src.cast(), len) };
    dst
}

fn do_memmove(dst: *mut c_void, src: *const c_void, len: usize, fp: usize) -> *mut c_void {
    if !check_copy(dst as usize, src as usize, len, fp) {
        return core::ptr::null_mut();
    }
    // SAFETY: as in `do_memcpy`.
    unsafe { move_bytes(dst.cast(), src.cast(), len) };
    dst
}

fn do_memset(dst: *mut c_void, c: c_int, len: usize, fp: usize) -> *mut c_void {
    if !check(dst as usize, len, true, fp) {
        return core::ptr::null_mut();
    }
    // SAFETY: as in `do_memcpy`.
    unsafe { fill(dst.cast(), c as u8, len) };
    dst
}

/// `void *memcpy(void *dst, const void *src, size_t len)`.
///
/// # Safety
///
/// As C's `memcpy`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memcpy(dst: *mut c_void, src: *const c_void, len: usize) -> *mut c_void {
    do_memcpy(dst, src, len, frame_pointer())
}

/// `void *memmove(void *dst, const void *src, size_t len)`.
///
/// # Safety
///
/// As C's `memmove`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memmove(dst: *mut c_void, src: *const c_void, len: usize) -> *mut c_void {
    do_memmove(dst, src, len, frame_pointer())
}

/// `void *memset(void *dst, int c, size_t len)`.
///
/// # Safety
///
/// As C's `memset`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memset(dst: *mut c_void, c: c_int, len: usize) -> *mut c_void {
    do_memset(dst, c, len, frame_pointer())
}

/// clang's `-asan-kernel-mem-intrinsic-prefix` form of `memcpy`.
///
/// # Safety
///
/// As C's `memcpy`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __asan_memcpy(
    dst: *mut c_void,
    src: *const c_void,
    len: usize,
) -> *mut c_void {
    do_memcpy(dst, src, len, frame_pointer())
}

/// clang's prefixed `memmove`.
///
/// # Safety
///
/// As C's `memmove`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __asan_memmove(
    dst: *mut c_void,
    src: *const c_void,
    len: usize,
) -> *mut c_void {
    do_memmove(dst, src, len, frame_pointer())
}

/// clang's prefixed `memset`.
///
/// # Safety
///
/// As C's `memset`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __asan_memset(dst: *mut c_void, c: c_int, len: usize) -> *mut c_void {
    do_memset(dst, c, len, frame_pointer())
}

/// Reads byte `i` of `p`.
///
/// # Safety
///
/// `p + i` must be readable.
#[inline(always)]
unsafe fn at(p: *const u8, i: usize) -> u8 {
    // SAFETY: forwarded to the caller.
    unsafe { *p.add(i) }
}

/// Length of a C string.
///
/// # Safety
///
/// `s` must be a readable NUL-terminated string.
unsafe fn len_of(s: *const u8) -> usize {
    let mut n = 0;
    // SAFETY: the caller promises a terminated string.
    while unsafe { at(s, n) } != 0 {
        n += 1;
    }
    n
}

/// `int memcmp(const void *a, const void *b, size_t n)`: both whole ranges are
/// checked, as the kernel's instrumented `memcmp` reads them.
///
/// # Safety
///
/// As C's `memcmp`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memcmp(a: *const c_void, b: *const c_void, n: usize) -> c_int {
    let fp = frame_pointer();
    check(a as usize, n, false, fp);
    check(b as usize, n, false, fp);
    let (a, b) = (a as *const u8, b as *const u8);
    for i in 0..n {
        // SAFETY: the caller promises `n` readable bytes at each.
        let (x, y) = unsafe { (at(a, i), at(b, i)) };
        if x != y {
            return c_int::from(x) - c_int::from(y);
        }
    }
    0
}

/// `int bcmp(const void *a, const void *b, size_t n)`: `memcmp` for equality, which
/// compilers emit for `memcmp(..) == 0`.
///
/// # Safety
///
/// As C's `bcmp`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bcmp(a: *const c_void, b: *const c_void, n: usize) -> c_int {
    let fp = frame_pointer();
    check(a as usize, n, false, fp);
    check(b as usize, n, false, fp);
    let (a, b) = (a as *const u8, b as *const u8);
    for i in 0..n {
        // SAFETY: the caller promises `n` readable bytes at each.
        if unsafe { at(a, i) != at(b, i) } {
            return 1;
        }
    }
    0
}

/// `void *memchr(const void *s, int c, size_t n)`: the bytes scanned are checked.
///
/// # Safety
///
/// As C's `memchr`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memchr(s: *const c_void, c: c_int, n: usize) -> *mut c_void {
    let fp = frame_pointer();
    let p = s as *const u8;
    let mut i = 0;
    // SAFETY: the caller promises `n` readable bytes.
    while i < n && unsafe { at(p, i) } != c as u8 {
        i += 1;
    }
    check(s as usize, (i + 1).min(n), false, fp);
    if i < n {
        p.wrapping_add(i) as *mut c_void
    } else {
        core::ptr::null_mut()
    }
}

/// `size_t strlen(const char *s)`: the string and its terminator are checked.
///
/// # Safety
///
/// As C's `strlen`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strlen(s: *const c_char) -> usize {
    let fp = frame_pointer();
    // SAFETY: the caller promises a terminated string.
    let n = unsafe { len_of(s.cast()) };
    check(s as usize, n + 1, false, fp);
    n
}

/// `size_t strnlen(const char *s, size_t max)`.
///
/// # Safety
///
/// As C's `strnlen`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strnlen(s: *const c_char, max: usize) -> usize {
    let fp = frame_pointer();
    let p = s as *const u8;
    let mut n = 0;
    // SAFETY: the caller promises the string is terminated or `max` bytes readable.
    while n < max && unsafe { at(p, n) } != 0 {
        n += 1;
    }
    check(s as usize, (n + 1).min(max), false, fp);
    n
}

/// `char *strcpy(char *dst, const char *src)`.
///
/// # Safety
///
/// As C's `strcpy`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strcpy(dst: *mut c_char, src: *const c_char) -> *mut c_char {
    let fp = frame_pointer();
    // SAFETY: the caller promises a terminated source.
    let n = unsafe { len_of(src.cast()) } + 1;
    if !check_copy(dst as usize, src as usize, n, fp) {
        return core::ptr::null_mut();
    }
    // SAFETY: checked (or checks are off) and promised by the caller; C forbids
    // overlap, memmove tolerates it anyway.
    unsafe { move_bytes(dst.cast(), src.cast(), n) };
    dst
}

/// `char *strncpy(char *dst, const char *src, size_t n)`: copies up to `n` bytes
/// and pads with NULs to `n`.
///
/// # Safety
///
/// As C's `strncpy`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strncpy(dst: *mut c_char, src: *const c_char, n: usize) -> *mut c_char {
    let fp = frame_pointer();
    let s = src as *const u8;
    let mut len = 0;
    // SAFETY: the caller promises the source is terminated or `n` bytes readable.
    while len < n && unsafe { at(s, len) } != 0 {
        len += 1;
    }
    if !check(src as usize, (len + 1).min(n), false, fp) || !check(dst as usize, n, true, fp) {
        return core::ptr::null_mut();
    }
    // SAFETY: `len <= n` bytes are readable at `src`, `n` writable at `dst`.
    unsafe {
        move_bytes(dst.cast(), src.cast(), len);
        fill(dst.add(len).cast(), 0, n - len);
    }
    dst
}

/// Compares up to `n` bytes of two strings, returning the result and how many
/// bytes of each were read.
///
/// # Safety
///
/// Both must be terminated or have `n` readable bytes.
unsafe fn compare(a: *const u8, b: *const u8, n: usize) -> (c_int, usize) {
    let mut i = 0;
    while i < n {
        // SAFETY: the caller's promise, up to the first difference or NUL.
        let (x, y) = unsafe { (at(a, i), at(b, i)) };
        if x != y || x == 0 {
            return (c_int::from(x) - c_int::from(y), i + 1);
        }
        i += 1;
    }
    (0, n)
}

/// `int strcmp(const char *a, const char *b)`.
///
/// # Safety
///
/// As C's `strcmp`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strcmp(a: *const c_char, b: *const c_char) -> c_int {
    let fp = frame_pointer();
    // SAFETY: the caller promises two terminated strings.
    let (r, read) = unsafe { compare(a.cast(), b.cast(), usize::MAX) };
    check(a as usize, read, false, fp);
    check(b as usize, read, false, fp);
    r
}

/// `int strncmp(const char *a, const char *b, size_t n)`.
///
/// # Safety
///
/// As C's `strncmp`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strncmp(a: *const c_char, b: *const c_char, n: usize) -> c_int {
    let fp = frame_pointer();
    // SAFETY: the caller promises terminated strings or `n` readable bytes.
    let (r, read) = unsafe { compare(a.cast(), b.cast(), n) };
    check(a as usize, read, false, fp);
    check(b as usize, read, false, fp);
    r
}

/// `char *strchr(const char *s, int c)`.
///
/// # Safety
///
/// As C's `strchr`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strchr(s: *const c_char, c: c_int) -> *mut c_char {
    let fp = frame_pointer();
    let p = s as *const u8;
    let mut i = 0;
    loop {
        // SAFETY: the caller promises a terminated string.
        let b = unsafe { at(p, i) };
        if b == c as u8 {
            check(s as usize, i + 1, false, fp);
            return p.wrapping_add(i) as *mut c_char;
        }
        if b == 0 {
            check(s as usize, i + 1, false, fp);
            return core::ptr::null_mut();
        }
        i += 1;
    }
}

/// `char *strrchr(const char *s, int c)`.
///
/// # Safety
///
/// As C's `strrchr`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strrchr(s: *const c_char, c: c_int) -> *mut c_char {
    let fp = frame_pointer();
    let p = s as *const u8;
    // SAFETY: the caller promises a terminated string.
    let n = unsafe { len_of(p) };
    check(s as usize, n + 1, false, fp);
    let mut i = n as isize;
    while i >= 0 {
        // SAFETY: `i <= n`, inside the string or its terminator.
        if unsafe { at(p, i as usize) } == c as u8 {
            return p.wrapping_add(i as usize) as *mut c_char;
        }
        i -= 1;
    }
    core::ptr::null_mut()
}

/// Whether checks are live (the runtime has started); exported for tests.
pub fn checks_live() -> bool {
    ready()
}
