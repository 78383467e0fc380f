//! Checked libc string parsing and searching that Linux does not have: `strtok`,
//! `strtok_r`, `strcasestr`, `memmem`, `atoi`, `atol`, `atoll`, `strtol`, `strtoll`,
//! `strtoul`, `strtoull`. ASan intercepts each of them (compiler-rt's
//! `sanitizer_common_interceptors.inc`, `asan_interceptors.cpp`); here they are checked
//! as [`crate::strings`] checks Linux's string functions:
//!
//! - The scanners (`strtok`, `strtok_r`, `strcasestr`) read byte by byte, each byte
//!   checked before it is read: a report names the function itself, `Read of size 1`
//!   (`Write of size 1` for the NUL `strtok` stores) at the first bad byte; then the
//!   function carries on as if the string ended there. `strcasestr` is built like
//!   Linux's `strstr`: `strlen` of both (reports in `strlen`), then `strncasecmp`.
//! - The number parsers check exactly the bytes the C function reads (leading space,
//!   sign, the `0x` prefix, the digits and the byte that ends them: ASan's
//!   `strtol` rule, `endptr - nptr + 1` bytes), report in their own frame at the first
//!   bad one, and return the number the good bytes before it spell. The conversion
//!   itself is glibc's (`__strtol_internal`, `__strtoul_internal`), so `errno`,
//!   overflow and `endptr` are exactly libc's.
//! - `memmem` checks both ranges whole at entry, as ASan does (`len` bytes of each,
//!   report in the caller); after a report it returns NULL without searching, as
//!   Linux's range-checked `mem*` intrinsics skip the operation.
#![allow(unsafe_code)]

use core::ffi::{c_char, c_int, c_long, c_longlong, c_ulong, c_ulonglong, c_void};
use core::sync::atomic::{AtomicPtr, Ordering};

use kasan_hosted::task::frame_pointer;

use crate::runtime::check;
use crate::strings::{byte_set, find_string, here, in_set, scan_bytes, strncasecmp, Scan, Site};

unsafe extern "C" {
    fn __strtol_internal(
        s: *const c_char,
        end: *mut *mut c_char,
        base: c_int,
        group: c_int,
    ) -> c_long;
    fn __strtoul_internal(
        s: *const c_char,
        end: *mut *mut c_char,
        base: c_int,
        group: c_int,
    ) -> c_ulong;
}

/// Where a `strtok` whose string ended at a reported byte continues: an empty string,
/// so the next call returns NULL instead of reading the bad byte again.
static EMPTY: u8 = 0;

/// `strtok`'s position between calls. C gives `strtok` no thread safety; the atomic
/// only keeps racing callers defined (Relaxed: no other memory is published with it).
static STRTOK_SAVE: AtomicPtr<u8> = AtomicPtr::new(core::ptr::null_mut());

/// The token after `*save` (or at `s`), as `strtok_r` finds it, for the function of
/// `site`.
///
/// # Safety
///
/// As C's `strtok_r`: `s` (or `*save`) and `delim` are terminated strings, `s` writable.
unsafe fn token(site: Site, s: *mut u8, delim: *const u8, save: &mut *mut u8) -> *mut u8 {
    let s = if s.is_null() { *save } else { s };
    if s.is_null() {
        return core::ptr::null_mut();
    }
    let empty = (&raw const EMPTY).cast_mut();
    // SAFETY: forwarded from the caller; every byte is checked before it is read, and
    // the NUL written at the token's end is checked first.
    unsafe {
        let set = byte_set(site, delim);
        let start = match scan_bytes(site, s, usize::MAX, |_, b| b == 0 || !in_set(&set, b)) {
            Scan::Stopped(i) if *s.add(i) != 0 => s.add(i),
            Scan::Stopped(i) => {
                *save = s.add(i);
                return core::ptr::null_mut();
            }
            Scan::Bad(_) | Scan::Exhausted => {
                *save = empty;
                return core::ptr::null_mut();
            }
        };
        match scan_bytes(site, start, usize::MAX, |_, b| b == 0 || in_set(&set, b)) {
            Scan::Stopped(j) if *start.add(j) == 0 => *save = start.add(j),
            Scan::Stopped(j) => {
                let end = start.add(j);
                if site.check_write(end as usize, 1) {
                    *end = 0;
                    *save = end.add(1);
                } else {
                    *save = empty;
                }
            }
            Scan::Bad(_) | Scan::Exhausted => *save = empty,
        }
        start
    }
}

/// `char *strtok_r(char *s, const char *delim, char **save)`.
///
/// # Safety
///
/// As C's `strtok_r`.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "C" fn strtok_r(
    s: *mut c_char,
    delim: *const c_char,
    save: *mut *mut c_char,
) -> *mut c_char {
    let site = here!();
    // SAFETY: the caller promises a valid `save` slot and terminated strings.
    unsafe {
        let mut pos = (*save).cast::<u8>();
        let t = token(site, s.cast(), delim.cast(), &mut pos);
        *save = pos.cast();
        t.cast()
    }
}

/// `char *strtok(char *s, const char *delim)`.
///
/// # Safety
///
/// As C's `strtok`.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "C" fn strtok(s: *mut c_char, delim: *const c_char) -> *mut c_char {
    let site = here!();
    let mut pos = STRTOK_SAVE.load(Ordering::Relaxed);
    // SAFETY: the caller promises terminated strings.
    let t = unsafe { token(site, s.cast(), delim.cast(), &mut pos) };
    STRTOK_SAVE.store(pos, Ordering::Relaxed);
    t.cast()
}

/// `char *strcasestr(const char *haystack, const char *needle)`: as Linux's `strstr`,
/// with `strncasecmp`.
///
/// # Safety
///
/// As C's `strcasestr`.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "C" fn strcasestr(haystack: *const c_char, needle: *const c_char) -> *mut c_char {
    // SAFETY: the caller promises two terminated strings.
    unsafe { find_string(haystack, needle, |h, n, len| strncasecmp(h, n, len) == 0) }
}

/// `void *memmem(const void *haystack, size_t hlen, const void *needle, size_t nlen)`.
///
/// # Safety
///
/// As C's `memmem`.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "C" fn memmem(
    haystack: *const c_void,
    hlen: usize,
    needle: *const c_void,
    nlen: usize,
) -> *mut c_void {
    let fp = frame_pointer();
    if !check(haystack as usize, hlen, false, fp) || !check(needle as usize, nlen, false, fp) {
        return core::ptr::null_mut();
    }
    if nlen == 0 {
        return haystack.cast_mut();
    }
    if nlen > hlen {
        return core::ptr::null_mut();
    }
    let (h, n) = (haystack.cast::<u8>(), needle.cast::<u8>());
    // SAFETY: both ranges were checked (or checks are off, where C's promise holds).
    unsafe {
        let first = *n;
        for i in 0..=hlen - nlen {
            if *h.add(i) == first {
                let mut j = 1;
                while j < nlen && *h.add(i + j) == *n.add(j) {
                    j += 1;
                }
                if j == nlen {
                    return h.add(i).cast_mut().cast();
                }
            }
        }
    }
    core::ptr::null_mut()
}

/// Where a number's text is in the grammar `strtol` reads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    /// Leading white space.
    Space,
    /// After the sign.
    Signed,
    /// After a leading `0` that may start `0x`.
    Zero,
    /// After `0x`: the next byte decides whether the prefix counts.
    Prefix,
    /// In the digits.
    Digits,
}

/// The value of `b` as a digit, if it is one in any base up to 36.
fn digit(b: u8) -> Option<u32> {
    match b {
        b'0'..=b'9' => Some(u32::from(b - b'0')),
        b'a'..=b'z' => Some(u32::from(b - b'a') + 10),
        b'A'..=b'Z' => Some(u32::from(b - b'A') + 10),
        _ => None,
    }
}

/// Checks the bytes `strtol(s, _, base)` reads, for the function of `site`: the
/// number of good bytes before the first bad one (reported), or None when all were
/// good.
///
/// # Safety
///
/// `s` is a terminated string (as C requires).
unsafe fn number_extent(site: Site, s: *const u8, base: c_int) -> Option<usize> {
    if base != 0 && !(2..=36).contains(&base) {
        return None; // libc reads nothing (EINVAL)
    }
    let mut base = base as u32;
    let mut part = Part::Space;
    let scanned = {
        let stop = |_: usize, b: u8| -> bool {
            loop {
                match part {
                    Part::Space => match b {
                        b' ' | b'\t'..=b'\r' => return false,
                        b'+' | b'-' => {
                            part = Part::Signed;
                            return false;
                        }
                        _ => part = Part::Signed,
                    },
                    Part::Signed => {
                        if b == b'0' && (base == 0 || base == 16) {
                            part = Part::Zero;
                            return false;
                        }
                        part = Part::Digits;
                    }
                    Part::Zero => {
                        if b == b'x' || b == b'X' {
                            base = 16;
                            part = Part::Prefix;
                            return false;
                        }
                        if base == 0 {
                            base = 8;
                        }
                        part = Part::Digits;
                    }
                    Part::Prefix | Part::Digits => {
                        let b10 = if base == 0 { 10 } else { base };
                        return digit(b).is_none_or(|d| d >= b10);
                    }
                }
            }
        };
        // SAFETY: forwarded from the caller.
        unsafe { scan_bytes(site, s, usize::MAX, stop) }
    };
    match scanned {
        Scan::Bad(i) => Some(i),
        Scan::Stopped(_) | Scan::Exhausted => None,
    }
}

/// Longest number text kept after a report (leading space included).
const KEPT: usize = 128;

/// Runs `convert` on the number at `s` whose bytes were checked for the function of
/// `site`: on the string itself when all were good, else on a copy of the good bytes
/// before the reported one, with `end` translated back to `s`.
///
/// # Safety
///
/// `s` is a terminated string; `end` NULL or writable.
unsafe fn parse<T>(
    site: Site,
    s: *const c_char,
    end: *mut *mut c_char,
    base: c_int,
    convert: impl Fn(*const c_char, *mut *mut c_char) -> T,
) -> T {
    // SAFETY: forwarded from the caller.
    let Some(good) = (unsafe { number_extent(site, s.cast(), base) }) else {
        return convert(s, end);
    };
    let mut copy = [0u8; KEPT + 1];
    let n = good.min(KEPT);
    // SAFETY: the first `good` bytes were checked and are readable.
    unsafe { core::ptr::copy_nonoverlapping(s.cast::<u8>(), copy.as_mut_ptr(), n) };
    let mut cend: *mut c_char = core::ptr::null_mut();
    let v = convert(copy.as_ptr().cast(), &mut cend);
    if !end.is_null() {
        let used = (cend as usize).wrapping_sub(copy.as_ptr() as usize).min(n);
        // SAFETY: the caller promises `end` writable; `s + used` lies in its string.
        unsafe { *end = s.add(used).cast_mut() };
    }
    v
}

/// glibc's signed conversion.
fn signed(base: c_int) -> impl Fn(*const c_char, *mut *mut c_char) -> c_long {
    // SAFETY: called on a terminated string with a NULL or writable `end`.
    move |s, e| unsafe { __strtol_internal(s, e, base, 0) }
}

/// glibc's unsigned conversion.
fn unsigned(base: c_int) -> impl Fn(*const c_char, *mut *mut c_char) -> c_ulong {
    // SAFETY: called on a terminated string with a NULL or writable `end`.
    move |s, e| unsafe { __strtoul_internal(s, e, base, 0) }
}

/// Keeps the parsers' machine code apart: `strtol` and `strtoll` (and `atol`, `atoll`...)
/// compile to the same instructions, and LLVM would merge them into one function
/// under two names, so a report would name the other one.
#[inline(always)]
fn distinct(id: u32) {
    core::hint::black_box(id);
}

/// `long strtol(const char *s, char **end, int base)`.
///
/// # Safety
///
/// As C's `strtol`.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "C" fn strtol(s: *const c_char, end: *mut *mut c_char, base: c_int) -> c_long {
    let site = here!();
    distinct(1);
    // SAFETY: forwarded from the caller.
    unsafe { parse(site, s, end, base, signed(base)) }
}

/// `long long strtoll(const char *s, char **end, int base)`.
///
/// # Safety
///
/// As C's `strtoll`.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "C" fn strtoll(
    s: *const c_char,
    end: *mut *mut c_char,
    base: c_int,
) -> c_longlong {
    let site = here!();
    distinct(2);
    // SAFETY: forwarded from the caller.
    unsafe { parse(site, s, end, base, signed(base)) }
}

/// `unsigned long strtoul(const char *s, char **end, int base)`.
///
/// # Safety
///
/// As C's `strtoul`.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "C" fn strtoul(s: *const c_char, end: *mut *mut c_char, base: c_int) -> c_ulong {
    let site = here!();
    distinct(3);
    // SAFETY: forwarded from the caller.
    unsafe { parse(site, s, end, base, unsigned(base)) }
}

/// `unsigned long long strtoull(const char *s, char **end, int base)`.
///
/// # Safety
///
/// As C's `strtoull`.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "C" fn strtoull(
    s: *const c_char,
    end: *mut *mut c_char,
    base: c_int,
) -> c_ulonglong {
    let site = here!();
    distinct(4);
    // SAFETY: forwarded from the caller.
    unsafe { parse(site, s, end, base, unsigned(base)) }
}

/// `int atoi(const char *s)`: `(int) strtol(s, NULL, 10)`.
///
/// # Safety
///
/// As C's `atoi`.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "C" fn atoi(s: *const c_char) -> c_int {
    let site = here!();
    distinct(5);
    // SAFETY: forwarded from the caller.
    unsafe { parse(site, s, core::ptr::null_mut(), 10, signed(10)) as c_int }
}

/// `long atol(const char *s)`: `strtol(s, NULL, 10)`.
///
/// # Safety
///
/// As C's `atol`.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "C" fn atol(s: *const c_char) -> c_long {
    let site = here!();
    distinct(6);
    // SAFETY: forwarded from the caller.
    unsafe { parse(site, s, core::ptr::null_mut(), 10, signed(10)) }
}

/// `long long atoll(const char *s)`: `strtoll(s, NULL, 10)`.
///
/// # Safety
///
/// As C's `atoll`.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "C" fn atoll(s: *const c_char) -> c_longlong {
    let site = here!();
    distinct(7);
    // SAFETY: forwarded from the caller.
    unsafe { parse(site, s, core::ptr::null_mut(), 10, signed(10)) }
}
