//! Checked memory and string functions. The program's calls to `memcpy`, `strlen`,
//! ... land here (the library defines the C names, so the linker binds them before
//! libc's); clang's `__asan_mem*` calls too. Each checks the bytes it will touch,
//! then does the work: copies and fills with the string instructions (`rep movsb`,
//! `rep stosb`, fast on every x86-64 with ERMS), the string scans here. Nothing
//! calls libc's versions: in a static program those may call back into these.
//!
//! A scan (`strlen`, `memchr`, `strcmp`, ...) cannot know its length before it has
//! read the bytes, so it checks as it reads: the shadow of each 64-byte step first
//! (one load when all is well), then the bytes. It never reads a byte the shadow
//! calls inaccessible: at the first one it reports the read up to and including
//! that byte and stops, so `memchr(p, c, SIZE_MAX)` ends at `p`'s redzone and
//! `strlen(NULL)` is a `null-ptr-deref` report rather than a `SIGSEGV`.
//!
//! As in Linux, when a check of a copy or fill reports a bug, the operation is
//! skipped and NULL returned, so the bad write never lands.
//!
//! This crate is `no_builtins`: the loops below are never turned into calls to the
//! very functions they implement.
#![allow(unsafe_code)]

use core::ffi::{c_char, c_int, c_void};

use kasan_core::shadow::round_down;
use kasan_hosted::memory::SHADOW;
use kasan_hosted::task::frame_pointer;

use crate::runtime::{check, ready, report_access};

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
    unsafe { *p.wrapping_add(i) }
}

/// How many bytes from `addr` on, at most `want` (>= 1), the shadow says may be read:
/// `want` when all of them, fewer when a bad granule (or one without shadow) comes
/// first, 0 when `addr` itself is bad. One shadow check for the common case.
#[inline]
fn accessible(addr: usize, want: usize) -> usize {
    if SHADOW.check(addr, want) {
        return want;
    }
    let end = addr.saturating_add(want);
    let mut p = addr;
    while p < end {
        match SHADOW.byte(p) {
            Some(0) => p = round_down(p) + 8,
            Some(s) if (s as i8) > 0 => {
                p = p.max((round_down(p) + s as usize).min(end));
                break;
            }
            _ => break,
        }
    }
    p.min(end) - addr
}

/// Where a scan ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scan {
    /// `stop` chose byte `i`.
    Stopped(usize),
    /// All `max` bytes were read without a stop.
    Exhausted,
    /// Byte `i` is not accessible; the bug was reported and the byte not read.
    Reported(usize),
}

/// The granules a scan takes in one step: 64 bytes, whose 8 shadow bytes are one
/// load when aligned.
const STEP: usize = 64;

/// The bytes from `base + i` to the end of its 64-byte step, at most `left`.
#[inline(always)]
fn step_len(base: usize, i: usize, left: usize) -> usize {
    let p = base.wrapping_add(i);
    (STEP - (p & (STEP - 1))).min(left)
}

/// Reads the bytes of `s` in order, up to `max` of them, until `stop(i, byte)` says
/// so, checking the shadow of each step before reading it: a scan never reads a byte
/// the shadow calls inaccessible (a redzone, freed memory, the NULL page, an address
/// without shadow). At the first such byte `i` it reports a read of `[s, s + i + 1)`,
/// the bytes the scan would have read, and stops. If the report is suppressed
/// (`kasan_disable_current`, once-only, `kasan=off`), the scan goes on unchecked, as
/// the plain C function would.
///
/// # Safety
///
/// The bytes `stop` lets the scan reach must be readable when the shadow does not
/// say otherwise (what C promises for these functions).
#[inline(always)]
unsafe fn scan(
    s: *const u8,
    max: usize,
    fp: usize,
    mut stop: impl FnMut(usize, u8) -> bool,
) -> Scan {
    let base = s as usize;
    let mut checked = ready();
    let mut i = 0;
    while i < max {
        let end = if checked {
            let ok = accessible(base.wrapping_add(i), step_len(base, i, max - i));
            if ok == 0 {
                if report_access(base, i + 1, false, fp) {
                    return Scan::Reported(i);
                }
                checked = false;
                max
            } else {
                i + ok
            }
        } else {
            max
        };
        while i < end {
            // SAFETY: the shadow allowed this byte (or the report was suppressed and
            // the caller's promise stands alone).
            if stop(i, unsafe { at(s, i) }) {
                return Scan::Stopped(i);
            }
            i += 1;
        }
    }
    Scan::Exhausted
}

/// [`scan`] of two strings side by side (`strcmp`): byte `i` of each is checked
/// before either is read; a bad byte in `a` is reported before one in `b`.
///
/// # Safety
///
/// As [`scan`], for both.
#[inline(always)]
unsafe fn scan2(
    a: *const u8,
    b: *const u8,
    max: usize,
    fp: usize,
    mut stop: impl FnMut(usize, u8, u8) -> bool,
) -> Scan {
    let (base_a, base_b) = (a as usize, b as usize);
    let mut checked = ready();
    let mut i = 0;
    while i < max {
        let end = if checked {
            let left = max - i;
            let ok_a = accessible(base_a.wrapping_add(i), step_len(base_a, i, left));
            let ok_b = accessible(base_b.wrapping_add(i), step_len(base_b, i, left));
            if ok_a == 0 || ok_b == 0 {
                let ra = ok_a == 0 && report_access(base_a, i + 1, false, fp);
                let rb = ok_b == 0 && report_access(base_b, i + 1, false, fp);
                if ra || rb {
                    return Scan::Reported(i);
                }
                checked = false;
                max
            } else {
                i + ok_a.min(ok_b)
            }
        } else {
            max
        };
        while i < end {
            // SAFETY: as in `scan`, for both strings.
            let (x, y) = unsafe { (at(a, i), at(b, i)) };
            if stop(i, x, y) {
                return Scan::Stopped(i);
            }
            i += 1;
        }
    }
    Scan::Exhausted
}

/// The bytes of two ranges that may be compared after a check of them reported:
/// the shorter accessible prefix.
fn comparable(a: usize, b: usize, n: usize) -> usize {
    let prefix = |base: usize| {
        let mut i = 0;
        while i < n {
            let want = step_len(base, i, n - i);
            let ok = accessible(base.wrapping_add(i), want);
            i += ok;
            if ok < want {
                break;
            }
        }
        i
    };
    prefix(a).min(prefix(b))
}

/// `memcmp`'s loop over the first `n` bytes.
///
/// # Safety
///
/// `n` bytes readable at each.
unsafe fn compare_bytes(a: *const u8, b: *const u8, n: usize) -> c_int {
    for i in 0..n {
        // SAFETY: forwarded from the caller.
        let (x, y) = unsafe { (at(a, i), at(b, i)) };
        if x != y {
            return c_int::from(x) - c_int::from(y);
        }
    }
    0
}

/// Checks both whole ranges, as the kernel's instrumented `memcmp` does, and returns
/// how many bytes may then be read: all `n`, or after a report only the accessible
/// prefix of both.
fn check_compare(a: usize, b: usize, n: usize, fp: usize) -> usize {
    let ok_a = check(a, n, false, fp);
    let ok_b = check(b, n, false, fp);
    if ok_a && ok_b {
        n
    } else {
        comparable(a, b, n)
    }
}

/// `int memcmp(const void *a, const void *b, size_t n)`: both whole ranges are
/// checked, as the kernel's instrumented `memcmp` reads them.
///
/// # Safety
///
/// As C's `memcmp`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memcmp(a: *const c_void, b: *const c_void, n: usize) -> c_int {
    let n = check_compare(a as usize, b as usize, n, frame_pointer());
    // SAFETY: `n` bytes of each are readable (promised, and checked when live).
    unsafe { compare_bytes(a.cast(), b.cast(), n) }
}

/// `int bcmp(const void *a, const void *b, size_t n)`: `memcmp` for equality, which
/// compilers emit for `memcmp(..) == 0`.
///
/// # Safety
///
/// As C's `bcmp`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bcmp(a: *const c_void, b: *const c_void, n: usize) -> c_int {
    let n = check_compare(a as usize, b as usize, n, frame_pointer());
    // SAFETY: as in `memcmp`.
    c_int::from(unsafe { compare_bytes(a.cast(), b.cast(), n) } != 0)
}

/// `void *memchr(const void *s, int c, size_t n)`: the bytes scanned are checked as
/// they are scanned, so `memchr(p, c, SIZE_MAX)` stops at the end of `p`'s object.
///
/// # Safety
///
/// As C's `memchr`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memchr(s: *const c_void, c: c_int, n: usize) -> *mut c_void {
    let p = s as *const u8;
    // SAFETY: the caller promises `n` readable bytes (or a `c` before the end).
    match unsafe { scan(p, n, frame_pointer(), |_, b| b == c as u8) } {
        Scan::Stopped(i) => p.wrapping_add(i) as *mut c_void,
        _ => core::ptr::null_mut(),
    }
}

/// The length of the string at `s` (at most `max`), scanned with [`scan`]; `Err`
/// with the bytes read before the bad one when a bad byte was reported.
///
/// # Safety
///
/// As [`scan`]: terminated or `max` readable bytes.
#[inline(always)]
unsafe fn length(s: *const u8, max: usize, fp: usize) -> Result<usize, usize> {
    // SAFETY: forwarded from the caller.
    match unsafe { scan(s, max, fp, |_, b| b == 0) } {
        Scan::Stopped(i) => Ok(i),
        Scan::Exhausted => Ok(max),
        Scan::Reported(i) => Err(i),
    }
}

/// `size_t strlen(const char *s)`: the string and its terminator are checked; after
/// a report, the length up to the bad byte.
///
/// # Safety
///
/// As C's `strlen`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strlen(s: *const c_char) -> usize {
    // SAFETY: the caller promises a terminated string.
    match unsafe { length(s.cast(), usize::MAX, frame_pointer()) } {
        Ok(n) | Err(n) => n,
    }
}

/// `size_t strnlen(const char *s, size_t max)`.
///
/// # Safety
///
/// As C's `strnlen`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strnlen(s: *const c_char, max: usize) -> usize {
    // SAFETY: the caller promises the string is terminated or `max` bytes readable.
    match unsafe { length(s.cast(), max, frame_pointer()) } {
        Ok(n) | Err(n) => n,
    }
}

/// `char *strcpy(char *dst, const char *src)`: the source is checked as it is
/// scanned, the destination before the copy; NULL (nothing copied) after a report.
///
/// # Safety
///
/// As C's `strcpy`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strcpy(dst: *mut c_char, src: *const c_char) -> *mut c_char {
    let fp = frame_pointer();
    // SAFETY: the caller promises a terminated source.
    let Ok(n) = (unsafe { length(src.cast(), usize::MAX, fp) }) else {
        return core::ptr::null_mut();
    };
    if !check(dst as usize, n + 1, true, fp) {
        return core::ptr::null_mut();
    }
    // SAFETY: checked (or checks are off) and promised by the caller; C forbids
    // overlap, memmove tolerates it anyway.
    unsafe { move_bytes(dst.cast(), src.cast(), n + 1) };
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
    // SAFETY: the caller promises the source is terminated or `n` bytes readable.
    let Ok(len) = (unsafe { length(src.cast(), n, fp) }) else {
        return core::ptr::null_mut();
    };
    if !check(dst as usize, n, true, fp) {
        return core::ptr::null_mut();
    }
    // SAFETY: `len <= n` bytes are readable at `src`, `n` writable at `dst`.
    unsafe {
        move_bytes(dst.cast(), src.cast(), len);
        fill(dst.add(len).cast(), 0, n - len);
    }
    dst
}

/// Compares up to `n` bytes of two strings, checked as they are read; 0 after a
/// report (the strings are equal as far as they could be read).
///
/// # Safety
///
/// Both must be terminated or have `n` readable bytes.
unsafe fn compare(a: *const u8, b: *const u8, n: usize, fp: usize) -> c_int {
    let mut result = 0;
    // SAFETY: forwarded from the caller.
    unsafe {
        scan2(a, b, n, fp, |_, x, y| {
            result = c_int::from(x) - c_int::from(y);
            x != y || x == 0
        })
    };
    result
}

/// `int strcmp(const char *a, const char *b)`.
///
/// # Safety
///
/// As C's `strcmp`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strcmp(a: *const c_char, b: *const c_char) -> c_int {
    // SAFETY: the caller promises two terminated strings.
    unsafe { compare(a.cast(), b.cast(), usize::MAX, frame_pointer()) }
}

/// `int strncmp(const char *a, const char *b, size_t n)`.
///
/// # Safety
///
/// As C's `strncmp`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strncmp(a: *const c_char, b: *const c_char, n: usize) -> c_int {
    // SAFETY: the caller promises terminated strings or `n` readable bytes.
    unsafe { compare(a.cast(), b.cast(), n, frame_pointer()) }
}

/// `char *strchr(const char *s, int c)`.
///
/// # Safety
///
/// As C's `strchr`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strchr(s: *const c_char, c: c_int) -> *mut c_char {
    let p = s as *const u8;
    let mut found = false;
    // SAFETY: the caller promises a terminated string.
    let end = unsafe {
        scan(p, usize::MAX, frame_pointer(), |_, b| {
            found = b == c as u8;
            found || b == 0
        })
    };
    match end {
        Scan::Stopped(i) if found => p.wrapping_add(i) as *mut c_char,
        _ => core::ptr::null_mut(),
    }
}

/// `char *strrchr(const char *s, int c)`: the string is scanned (and checked) once,
/// remembering the last match.
///
/// # Safety
///
/// As C's `strrchr`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strrchr(s: *const c_char, c: c_int) -> *mut c_char {
    let p = s as *const u8;
    let mut last = None;
    // SAFETY: the caller promises a terminated string.
    let end = unsafe {
        scan(p, usize::MAX, frame_pointer(), |i, b| {
            if b == c as u8 {
                last = Some(i);
            }
            b == 0
        })
    };
    match (end, last) {
        (Scan::Stopped(_), Some(i)) => p.wrapping_add(i) as *mut c_char,
        _ => core::ptr::null_mut(),
    }
}

/// Whether checks are live (the runtime has started); exported for tests.
pub fn checks_live() -> bool {
    ready()
}
