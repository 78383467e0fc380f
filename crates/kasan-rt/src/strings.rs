//! Checked memory and string functions. The program's calls to `memcpy`, `strlen`,
//! ... land here (the library defines the C names, so the linker binds them before
//! libc's); clang's `__asan_mem*` calls too. Nothing calls libc's versions: in a
//! static program those may call back into these. [`crate::checked`] lists what
//! each function checks.
//!
//! Two kinds of check, as in Linux:
//!
//! - **The `mem*` intrinsics** (`memcpy`, `memmove`, `memset` and their `__asan_`
//!   forms) check their whole ranges at entry, as Linux's `mm/kasan/shadow.c` ones
//!   do (`kasan_check_range`): the report names their caller and the range's start
//!   and size. When the check reports, the operation is skipped and NULL returned,
//!   so the bad write never lands (Linux's behaviour, kept).
//! - **Everything else** is, in Linux, ordinary instrumented C (`lib/string.c`):
//!   each byte is checked as it is read or written, so the report names the
//!   function itself (`in strlen+0x../0x..`, its own frame on top of the trace),
//!   with `Read of size 1` (or `Write of size 1`) at the first bad byte. `memcmp`
//!   compares a word at a time first, as Linux's does with efficient unaligned
//!   access, so its reports there are of size 8. Functions Linux builds on others
//!   call ours (`strstr` calls `strlen` and `memcmp`, `strdup` calls `strlen` and
//!   `memcpy`), so their reports show the same frames.
//!
//! After a report a function carries on as the C function would, returning what it
//! returns (`strcpy` its destination, never NULL), but it never touches the bad byte
//! or any after it: a scan ends there as at a terminator (`strlen` returns the
//! length up to it), a copy stops there (and ends its destination with a NUL where
//! that byte is good). So `memchr(p, c, SIZE_MAX)` ends at `p`'s redzone and
//! `strlen(NULL)` is a `null-ptr-deref` report rather than a `SIGSEGV`. Only one
//! report is made per call. When the report is suppressed (`kasan_disable_current`,
//! once-only after the first bug, `kasan=off`) the function goes on unchecked, as
//! the plain C function would.
//!
//! Copies and fills of up to 64 bytes are overlapping head and tail moves; longer
//! ones use the string instructions (`rep movsb`, `rep stosb`, fast on every x86-64
//! with ERMS, slow to start). Scans check the shadow of each 64-byte step first (one
//! load when all is well), then read its bytes. This crate is `no_builtins`: the
//! loops below are never turned into calls to the very functions they implement.
#![allow(unsafe_code)]

use core::ffi::{c_char, c_int, c_void};

use kasan_core::shadow::round_down;
use kasan_hosted::memory::SHADOW;
use kasan_hosted::task::frame_pointer;

use crate::runtime::{access_ok, check, mode, ready, report_access_in, RunMode};

/// Bytes per tag-mode granule.
const TAG_GRANULE: usize = kasan_core::sw_tags::TAG_GRANULE;

/// Where a checked function reports from: its frame (`fp`, whose return address is
/// its caller) and, for a function Linux implements as instrumented C, an address
/// inside it (`pc`), shown as the report's first frame. `pc == 0`: the report names
/// the caller, as for Linux's range checks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Site {
    /// An address inside the checked function, or 0.
    pub(crate) pc: usize,
    /// The checked function's frame.
    pub(crate) fp: usize,
}

impl Site {
    /// A site whose reports name the caller of the function whose frame is `fp`.
    pub(crate) fn caller(fp: usize) -> Site {
        Site { pc: 0, fp }
    }

    /// Reports a bad read of `size` bytes at `addr`; whether it was reported.
    pub(crate) fn read(self, addr: usize, size: usize) -> bool {
        report_access_in(self.pc, addr, size, false, self.fp)
    }

    /// Reports a bad write of `size` bytes at `addr`; whether it was reported.
    pub(crate) fn write(self, addr: usize, size: usize) -> bool {
        report_access_in(self.pc, addr, size, true, self.fp)
    }

    /// Checks a read of `[addr, addr + size)` as one access; false if it was bad and
    /// reported.
    pub(crate) fn check_read(self, addr: usize, size: usize) -> bool {
        !ready() || access_ok(addr, size) || !self.read(addr, size)
    }

    /// Checks a write of `[addr, addr + size)` as one access; false if it was bad
    /// and reported.
    pub(crate) fn check_write(self, addr: usize, size: usize) -> bool {
        !ready() || access_ok(addr, size) || !self.write(addr, size)
    }
}

/// The [`Site`] of the exported function this is written in (not of a helper: the
/// instruction pointer is read right here, in the function's own code; its line is
/// the function's, not this macro's).
#[collapse_debuginfo(yes)]
macro_rules! here {
    () => {{
        let pc: usize;
        // SAFETY: reads the instruction pointer into a register; touches no memory.
        unsafe {
            core::arch::asm!("lea {}, [rip]", out(reg) pc, options(nomem, nostack, preserves_flags))
        };
        $crate::strings::Site {
            pc,
            fp: kasan_hosted::task::frame_pointer(),
        }
    }};
}
pub(crate) use here;

/// Bytes up to which copies and fills use plain loads and stores rather than the
/// string instructions, whose start-up costs more than a small copy: `rep movsb` took
/// 12.8 ns for 32 bytes here, four 16-byte moves take a few.
const SMALL: usize = 64;

/// Copies `len <= SMALL` bytes: every load before any store, so the ranges may
/// overlap either way (`memmove`'s promise). Head and tail words overlap in the
/// middle for lengths between the powers of two.
///
/// # Safety
///
/// `src..src+len` readable, `dst..dst+len` writable, `len <= SMALL`.
#[inline(always)]
unsafe fn copy_small(dst: *mut u8, src: *const u8, len: usize) {
    use core::ptr::{read_unaligned as rd, write_unaligned as wr};
    // SAFETY: each access lies in `[src, src + len)` or
    // `[dst, dst + len)`: offsets `len - k` are taken only where `len >= k`.
    unsafe {
        if len >= 32 {
            let (a, b) = (rd(src as *const u128), rd(src.add(16) as *const u128));
            let (c, d) = (
                rd(src.add(len - 32) as *const u128),
                rd(src.add(len - 16) as *const u128),
            );
            wr(dst as *mut u128, a);
            wr(dst.add(16) as *mut u128, b);
            wr(dst.add(len - 32) as *mut u128, c);
            wr(dst.add(len - 16) as *mut u128, d);
        } else if len >= 16 {
            let (a, b) = (rd(src as *const u128), rd(src.add(len - 16) as *const u128));
            wr(dst as *mut u128, a);
            wr(dst.add(len - 16) as *mut u128, b);
        } else if len >= 8 {
            let (a, b) = (rd(src as *const u64), rd(src.add(len - 8) as *const u64));
            wr(dst as *mut u64, a);
            wr(dst.add(len - 8) as *mut u64, b);
        } else if len >= 4 {
            let (a, b) = (rd(src as *const u32), rd(src.add(len - 4) as *const u32));
            wr(dst as *mut u32, a);
            wr(dst.add(len - 4) as *mut u32, b);
        } else if len > 0 {
            let (a, b, c) = (*src, *src.add(len / 2), *src.add(len - 1));
            *dst = a;
            *dst.add(len / 2) = b;
            *dst.add(len - 1) = c;
        }
    }
}

/// Fills `len <= SMALL` bytes with `byte`, in overlapping head and tail words.
///
/// # Safety
///
/// `dst..dst+len` writable, `len <= SMALL`.
#[inline(always)]
unsafe fn fill_small(dst: *mut u8, byte: u8, len: usize) {
    use core::ptr::write_unaligned as wr;
    let w = u128::from_ne_bytes([byte; 16]);
    // SAFETY: as in `copy_small`, every store lies in `[dst, dst + len)`.
    unsafe {
        if len >= 32 {
            wr(dst as *mut u128, w);
            wr(dst.add(16) as *mut u128, w);
            wr(dst.add(len - 32) as *mut u128, w);
            wr(dst.add(len - 16) as *mut u128, w);
        } else if len >= 16 {
            wr(dst as *mut u128, w);
            wr(dst.add(len - 16) as *mut u128, w);
        } else if len >= 8 {
            wr(dst as *mut u64, w as u64);
            wr(dst.add(len - 8) as *mut u64, w as u64);
        } else if len >= 4 {
            wr(dst as *mut u32, w as u32);
            wr(dst.add(len - 4) as *mut u32, w as u32);
        } else if len > 0 {
            *dst = byte;
            *dst.add(len / 2) = byte;
            *dst.add(len - 1) = byte;
        }
    }
}

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
    if len <= SMALL {
        // SAFETY: forwarded from the caller.
        unsafe { fill_small(dst, byte, len) };
        return;
    }
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
    if len <= SMALL {
        // SAFETY: forwarded; any overlap is fine (all loads come first).
        unsafe { copy_small(dst, src, len) };
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

/// `memcpy`/`memmove` for the caller of the entry point whose frame is `fp`.
pub(crate) fn do_memcpy(
    dst: *mut c_void,
    src: *const c_void,
    len: usize,
    fp: usize,
) -> *mut c_void {
    if !check_copy(dst as usize, src as usize, len, fp) {
        return core::ptr::null_mut();
    }
    // SAFETY: the caller promised valid ranges (and they checked out when checks are
    // on). C's memcpy forbids overlap; a move tolerates it anyway.
    unsafe { move_bytes(dst.cast(), src.cast(), len) };
    dst
}

/// `memset` for the caller of the entry point whose frame is `fp`.
pub(crate) fn do_memset(dst: *mut c_void, c: c_int, len: usize, fp: usize) -> *mut c_void {
    if !check(dst as usize, len, true, fp) {
        return core::ptr::null_mut();
    }
    // SAFETY: as in `do_memcpy`.
    unsafe { fill(dst.cast(), c as u8, len) };
    dst
}

/// `void *memcpy(void *dst, const void *src, size_t len)`: both ranges checked at
/// entry; NULL (nothing copied) after a report.
///
/// # Safety
///
/// As C's `memcpy`.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "C" fn memcpy(dst: *mut c_void, src: *const c_void, len: usize) -> *mut c_void {
    do_memcpy(dst, src, len, frame_pointer())
}

/// `void *memmove(void *dst, const void *src, size_t len)`: as `memcpy`.
///
/// # Safety
///
/// As C's `memmove`.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "C" fn memmove(dst: *mut c_void, src: *const c_void, len: usize) -> *mut c_void {
    do_memcpy(dst, src, len, frame_pointer())
}

/// `void *memset(void *dst, int c, size_t len)`: the range checked at entry; NULL
/// (nothing written) after a report.
///
/// # Safety
///
/// As C's `memset`.
#[unsafe(no_mangle)]
#[inline(never)]
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
    do_memcpy(dst, src, len, frame_pointer())
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

/// Writes byte `i` of `p`.
///
/// # Safety
///
/// `p + i` must be writable.
#[inline(always)]
unsafe fn put(p: *mut u8, i: usize, b: u8) {
    // SAFETY: forwarded to the caller.
    unsafe { *p.wrapping_add(i) = b }
}

/// How many bytes from `addr` on, at most `want` (>= 1), the mode's metadata says
/// may be accessed: `want` when all of them, fewer when a bad granule (or one without
/// shadow) comes first, 0 when `addr` itself is bad. One check for the common case.
/// In sw-tags mode a granule is good or bad as a whole (16 bytes, no short granules)
/// and is judged by the pointer's tag, never by generic shadow (design §4.8).
#[inline]
fn accessible(addr: usize, want: usize) -> usize {
    if access_ok(addr, want) {
        return want;
    }
    let end = addr.saturating_add(want);
    if mode() == RunMode::SwTags {
        let mut p = addr;
        while p < end && access_ok(p, 1) {
            p = (p | (TAG_GRANULE - 1)) + 1;
        }
        return p.min(end) - addr;
    }
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

/// The granules a scan takes in one step: 64 bytes, whose 8 shadow bytes are one
/// load when aligned.
const STEP: usize = 64;

/// The bytes from `base + i` to the end of its 64-byte step, at most `left`.
#[inline(always)]
fn step_len(base: usize, i: usize, left: usize) -> usize {
    let p = base.wrapping_add(i);
    (STEP - (p & (STEP - 1))).min(left)
}

/// How many of the `n` bytes from `base` on may be accessed before the first bad
/// one (all `n` when the runtime has not started).
pub(crate) fn prefix(base: usize, n: usize) -> usize {
    if !ready() {
        return n;
    }
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
}

/// Where a scan ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scan {
    /// `stop` chose byte `i`.
    Stopped(usize),
    /// All `max` bytes were read without a stop.
    Exhausted,
    /// Byte `i` is not accessible; the bug was reported and the byte not read.
    Bad(usize),
}

/// Reads the bytes of `s` in order, up to `max` of them, until `stop(i, byte)` says
/// so, checking the shadow of each step before reading it: a scan never reads a byte
/// the shadow calls inaccessible (a redzone, freed memory, the NULL page, an address
/// without shadow). At the first such byte `i` it calls `bad(i)`, which reports; if
/// it did, the scan ends there, else (a suppressed report) it goes on unchecked, as
/// the plain C function would.
///
/// # Safety
///
/// The bytes `stop` lets the scan reach must be readable when the shadow does not
/// say otherwise (what C promises for these functions).
#[inline(always)]
pub(crate) unsafe fn scan(
    s: *const u8,
    max: usize,
    mut bad: impl FnMut(usize) -> bool,
    mut stop: impl FnMut(usize, u8) -> bool,
) -> Scan {
    let base = s as usize;
    let mut checked = ready();
    let mut i = 0;
    while i < max {
        let end = if checked {
            let ok = accessible(base.wrapping_add(i), step_len(base, i, max - i));
            if ok == 0 {
                if bad(i) {
                    return Scan::Bad(i);
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

/// [`scan`] of a string read byte by byte by the function of `site`: a bad byte is
/// a `Read of size 1` there.
///
/// # Safety
///
/// As [`scan`].
#[inline(always)]
pub(crate) unsafe fn scan_bytes(
    site: Site,
    s: *const u8,
    max: usize,
    stop: impl FnMut(usize, u8) -> bool,
) -> Scan {
    let base = s as usize;
    // SAFETY: forwarded from the caller.
    unsafe { scan(s, max, |i| site.read(base.wrapping_add(i), 1), stop) }
}

/// [`scan`] of two strings side by side (`strcmp`): byte `i` of `a` is read before
/// byte `i` of `b`, each checked first, as Linux's loop reads them.
///
/// # Safety
///
/// As [`scan`], for both.
#[inline(always)]
unsafe fn scan2(
    site: Site,
    a: *const u8,
    b: *const u8,
    max: usize,
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
                let reported = if ok_a == 0 {
                    site.read(base_a.wrapping_add(i), 1)
                } else {
                    site.read(base_b.wrapping_add(i), 1)
                };
                if reported {
                    return Scan::Bad(i);
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

/// Where a copy ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Copy {
    /// Byte `i` was the stop byte; bytes `0..=i` were copied.
    Hit(usize),
    /// All `max` bytes were copied without a stop byte.
    Full,
    /// Bytes `0..at` were copied; reading byte `at` of the source (`src`) or writing
    /// byte `at` of the destination was bad and reported.
    Bad {
        /// The index of the bad byte.
        at: usize,
        /// Whether it was the source's.
        src: bool,
    },
}

/// Copies bytes from `src` to `dst` one at a time, as Linux's loops do (byte `i` read,
/// then written), up to `max` of them or through the first `stop` byte, checking
/// each byte before it is touched: at the first bad one, a `Read`/`Write of size 1`
/// report and the copy ends (nothing more is touched).
///
/// # Safety
///
/// What C promises for the function: the bytes the copy reaches are readable at
/// `src` and writable at `dst` when the shadow does not say otherwise.
pub(crate) unsafe fn copy_until(
    site: Site,
    dst: *mut u8,
    src: *const u8,
    max: usize,
    stop: u8,
) -> Copy {
    let (d, s) = (dst as usize, src as usize);
    let mut checked = ready();
    let mut i = 0;
    while i < max {
        let end = if checked {
            let want = step_len(s, i, max - i).min(step_len(d, i, max - i));
            let a = accessible(s.wrapping_add(i), want);
            let b = if a == 0 {
                0
            } else {
                accessible(d.wrapping_add(i), a)
            };
            if b == 0 {
                let reported = if a == 0 {
                    site.read(s.wrapping_add(i), 1)
                } else {
                    site.write(d.wrapping_add(i), 1)
                };
                if reported {
                    return Copy::Bad { at: i, src: a == 0 };
                }
                checked = false;
                max
            } else {
                i + b
            }
        } else {
            max
        };
        while i < end {
            // SAFETY: the shadow allowed both bytes (or the report was suppressed and
            // the caller's promise stands alone).
            let c = unsafe { at(src, i) };
            // SAFETY: as above.
            unsafe { put(dst, i, c) };
            if c == stop {
                return Copy::Hit(i);
            }
            i += 1;
        }
    }
    Copy::Full
}

/// Writes `byte` at `p` for the function of `site` (one checked byte store). With
/// `quiet` (a report was already made in this call) a bad byte is left alone
/// without another report. Whether the byte was written.
///
/// # Safety
///
/// `p` writable when the shadow does not say otherwise.
pub(crate) unsafe fn store(site: Site, p: *mut u8, byte: u8, quiet: bool) -> bool {
    let a = p as usize;
    if ready() && !access_ok(a, 1) && (quiet || site.write(a, 1)) {
        return false;
    }
    // SAFETY: accessible, or the report was suppressed (the caller's promise).
    unsafe { put(p, 0, byte) };
    true
}

/// Fills `len` bytes at `dst` with `byte` for the function of `site`, byte by byte
/// as far as they are good: the first bad one is reported (unless `quiet`) and the
/// fill ends there.
///
/// # Safety
///
/// As [`store`], for each byte.
pub(crate) unsafe fn fill_checked(site: Site, dst: *mut u8, len: usize, byte: u8, quiet: bool) {
    let k = prefix(dst as usize, len);
    let n = if k < len && !quiet && !site.write(dst as usize + k, 1) {
        len
    } else {
        k
    };
    // SAFETY: the first `n` bytes are good (or a suppressed report leaves them to the
    // caller's promise).
    unsafe { fill(dst, byte, n) };
}

/// `memcmp`'s work for the function of `site`, as Linux's: a word (8 bytes) of each
/// at a time while 8 remain, then bytes; each access is checked before it is made
/// (`a`'s before `b`'s), the shadow of a 64-byte step of both at once when all is
/// well. After a report, 0: equal as far as compared.
///
/// # Safety
///
/// `n` bytes readable at each when the shadow does not say otherwise.
unsafe fn compare_memory(site: Site, a: *const u8, b: *const u8, n: usize) -> c_int {
    let (pa, pb) = (a as usize, b as usize);
    let mut checked = ready();
    // Bytes from `i` on known good in both.
    let mut good = 0usize;
    let mut i = 0;
    while i < n {
        let size = if n - i >= 8 { 8 } else { 1 };
        if checked && good < size {
            let want = step_len(pa, i, n - i).max(size).min(n - i);
            good = accessible(pa + i, want).min(accessible(pb + i, want));
            if good < size {
                let base = if access_ok(pa + i, size) { pb } else { pa };
                if site.read(base + i, size) {
                    return 0;
                }
                checked = false;
            }
        }
        // SAFETY: both checked (or promised).
        unsafe {
            if size == 8 {
                let x = a.add(i).cast::<u64>().read_unaligned();
                let y = b.add(i).cast::<u64>().read_unaligned();
                if x == y {
                    i += 8;
                    good = good.saturating_sub(8);
                    continue;
                }
                // The word differs: its bytes decide, as in Linux's byte loop.
                for j in i..i + 8 {
                    let (x, y) = (at(a, j), at(b, j));
                    if x != y {
                        return c_int::from(x) - c_int::from(y);
                    }
                }
            }
            let (x, y) = (at(a, i), at(b, i));
            if x != y {
                return c_int::from(x) - c_int::from(y);
            }
        }
        i += 1;
        good = good.saturating_sub(1);
    }
    0
}

/// `int memcmp(const void *a, const void *b, size_t n)`: Linux's word-then-byte
/// loop, checked as it reads.
///
/// # Safety
///
/// As C's `memcmp`.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "C" fn memcmp(a: *const c_void, b: *const c_void, n: usize) -> c_int {
    let site = here!();
    // SAFETY: the caller promises `n` readable bytes at each.
    unsafe { compare_memory(site, a.cast(), b.cast(), n) }
}

/// `int bcmp(const void *a, const void *b, size_t n)`: Linux's calls `memcmp`.
///
/// # Safety
///
/// As C's `bcmp`.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "C" fn bcmp(a: *const c_void, b: *const c_void, n: usize) -> c_int {
    // SAFETY: forwarded.
    c_int::from(unsafe { memcmp(a, b, n) } != 0)
}

/// `void *memchr(const void *s, int c, size_t n)`: byte by byte, so
/// `memchr(p, c, SIZE_MAX)` stops at the end of `p`'s object.
///
/// # Safety
///
/// As C's `memchr`.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "C" fn memchr(s: *const c_void, c: c_int, n: usize) -> *mut c_void {
    let site = here!();
    let p = s as *const u8;
    // SAFETY: the caller promises `n` readable bytes (or a `c` before the end).
    match unsafe { scan_bytes(site, p, n, |_, b| b == c as u8) } {
        Scan::Stopped(i) => p.wrapping_add(i) as *mut c_void,
        _ => core::ptr::null_mut(),
    }
}

/// The length of the string at `s` (at most `max`), read for the function of
/// `site`; after a report, the bytes before the bad one. The bytes of each step the
/// shadow allows are read a word at a time (words wholly inside that part only); the
/// checks are [`scan`]'s.
///
/// # Safety
///
/// As [`scan`]: terminated or `max` readable bytes.
#[inline(always)]
pub(crate) unsafe fn length(site: Site, s: *const u8, max: usize) -> usize {
    const LOW: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let base = s as usize;
    let mut checked = ready();
    let mut i = 0;
    while i < max {
        let end = if checked {
            let ok = accessible(base.wrapping_add(i), step_len(base, i, max - i));
            if ok == 0 {
                if site.read(base.wrapping_add(i), 1) {
                    return i;
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
            // Unchecked, a word never crosses into the next page: byte `i` is the
            // string's, so its page is mapped.
            let p = base.wrapping_add(i);
            if end - i >= 8 && (checked || p & 4095 <= 4096 - 8) {
                // SAFETY: the 8 bytes lie inside the part the shadow allowed, or (checks
                // off) in the page of byte `i`, which the caller promises readable.
                let w = unsafe { s.add(i).cast::<u64>().read_unaligned() };
                if w.wrapping_sub(LOW) & !w & HIGH == 0 {
                    i += 8;
                    continue;
                }
            }
            // SAFETY: as above, one byte.
            if unsafe { at(s, i) } == 0 {
                return i;
            }
            i += 1;
        }
    }
    max
}

/// `size_t strlen(const char *s)`.
///
/// # Safety
///
/// As C's `strlen`.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "C" fn strlen(s: *const c_char) -> usize {
    let site = here!();
    // SAFETY: the caller promises a terminated string.
    unsafe { length(site, s.cast(), usize::MAX) }
}

/// `size_t strnlen(const char *s, size_t max)`.
///
/// # Safety
///
/// As C's `strnlen`.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "C" fn strnlen(s: *const c_char, max: usize) -> usize {
    let site = here!();
    // SAFETY: the caller promises the string is terminated or `max` bytes readable.
    unsafe { length(site, s.cast(), max) }
}

/// Copies the string at `src` with its NUL to `dst` for the function of `site`;
/// returns the index of the NUL written (the length), or where the copy stopped
/// after a report. A bad source byte ends the string: a NUL is written in its place
/// when that byte of `dst` is good.
///
/// # Safety
///
/// As C's `strcpy`.
unsafe fn copy_string(site: Site, dst: *mut u8, src: *const u8) -> usize {
    // SAFETY: forwarded from the caller.
    match unsafe { copy_until(site, dst, src, usize::MAX, 0) } {
        Copy::Hit(i) => i,
        Copy::Full => usize::MAX,
        Copy::Bad { at, src } => {
            if src {
                // SAFETY: checked by `store`.
                unsafe { store(site, dst.wrapping_add(at), 0, true) };
            }
            at
        }
    }
}

/// `char *strcpy(char *dst, const char *src)`: byte `i` of the source read, then
/// written, as Linux's loop does.
///
/// # Safety
///
/// As C's `strcpy`.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "C" fn strcpy(dst: *mut c_char, src: *const c_char) -> *mut c_char {
    let site = here!();
    // SAFETY: the caller promises a terminated source and room for it.
    unsafe { copy_string(site, dst.cast(), src.cast()) };
    dst
}

/// `char *stpcpy(char *dst, const char *src)`: as `strcpy`, returning the end.
///
/// # Safety
///
/// As C's `stpcpy`.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "C" fn stpcpy(dst: *mut c_char, src: *const c_char) -> *mut c_char {
    let site = here!();
    // SAFETY: as in `strcpy`.
    let n = unsafe { copy_string(site, dst.cast(), src.cast()) };
    dst.wrapping_add(n)
}

/// `char *strncpy(char *dst, const char *src, size_t n)`: Linux's loop, `n` bytes
/// written (the source's, then NULs), the source read up to its NUL.
///
/// # Safety
///
/// As C's `strncpy`.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "C" fn strncpy(dst: *mut c_char, src: *const c_char, n: usize) -> *mut c_char {
    let site = here!();
    let d: *mut u8 = dst.cast();
    // SAFETY: the caller promises the source is terminated or `n` bytes readable,
    // and `n` writable bytes.
    unsafe {
        match copy_until(site, d, src.cast(), n, 0) {
            Copy::Hit(i) => fill_checked(site, d.add(i + 1), n - i - 1, 0, false),
            Copy::Full | Copy::Bad { src: false, .. } => {}
            Copy::Bad { at, src: true } => fill_checked(site, d.add(at), n - at, 0, true),
        }
    }
    dst
}

/// The end of the string at `dst` (its NUL), read for the function of `site`, or
/// `None` after a report.
///
/// # Safety
///
/// A terminated string.
unsafe fn end_of(site: Site, dst: *const u8) -> Option<usize> {
    // SAFETY: forwarded from the caller.
    match unsafe { scan_bytes(site, dst, usize::MAX, |_, b| b == 0) } {
        Scan::Stopped(i) => Some(i),
        Scan::Exhausted | Scan::Bad(_) => None,
    }
}

/// `char *strcat(char *dst, const char *src)`: the destination's string read to
/// its end, then the source copied there, byte by byte.
///
/// # Safety
///
/// As C's `strcat`.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "C" fn strcat(dst: *mut c_char, src: *const c_char) -> *mut c_char {
    let site = here!();
    let d: *mut u8 = dst.cast();
    // SAFETY: the caller promises two terminated strings and room for both.
    unsafe {
        if let Some(e) = end_of(site, d) {
            copy_string(site, d.add(e), src.cast());
        }
    }
    dst
}

/// `char *strncat(char *dst, const char *src, size_t n)`: at most `n` bytes of the
/// source appended, then a NUL.
///
/// # Safety
///
/// As C's `strncat`.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "C" fn strncat(dst: *mut c_char, src: *const c_char, n: usize) -> *mut c_char {
    let site = here!();
    let d: *mut u8 = dst.cast();
    if n == 0 {
        return dst;
    }
    // SAFETY: the caller promises a terminated destination with room, and a source
    // terminated or `n` bytes long.
    unsafe {
        if let Some(e) = end_of(site, d) {
            let d = d.add(e);
            match copy_until(site, d, src.cast(), n, 0) {
                Copy::Hit(_) | Copy::Bad { src: false, .. } => {}
                Copy::Full => {
                    store(site, d.add(n), 0, false);
                }
                Copy::Bad { at, src: true } => {
                    store(site, d.add(at), 0, true);
                }
            }
        }
    }
    dst
}

/// `void *memccpy(void *dst, const void *src, int c, size_t n)`: byte by byte
/// through the first `c`; a pointer past it, or NULL.
///
/// # Safety
///
/// As C's `memccpy`.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "C" fn memccpy(
    dst: *mut c_void,
    src: *const c_void,
    c: c_int,
    n: usize,
) -> *mut c_void {
    let site = here!();
    // SAFETY: the caller promises `n` bytes (or through a `c`) at both.
    match unsafe { copy_until(site, dst.cast(), src.cast(), n, c as u8) } {
        Copy::Hit(i) => dst.cast::<u8>().wrapping_add(i + 1).cast(),
        _ => core::ptr::null_mut(),
    }
}

/// The libc allocator's entry, called through a pointer the optimiser cannot see
/// through, so it stays a call of its own and its allocation stack starts in the
/// function that calls it (`strdup`), as Linux's `kstrdup` shows.
fn malloc_entry() -> extern "C" fn(usize) -> *mut c_void {
    core::hint::black_box(crate::alloc_api::malloc as extern "C" fn(usize) -> *mut c_void)
}

/// A new string of the first `len` bytes at `s` from `alloc`, as Linux's
/// `kstrndup`: the bytes copied with `memcpy`, then a NUL.
///
/// # Safety
///
/// `len` readable bytes at `s`.
#[inline(always)]
pub(crate) unsafe fn dup_bytes(
    s: *const u8,
    len: usize,
    alloc: impl FnOnce(usize) -> *mut c_void,
) -> *mut c_char {
    let Some(size) = len.checked_add(1) else {
        return core::ptr::null_mut();
    };
    let p: *mut u8 = alloc(size).cast();
    if p.is_null() || p as usize <= 16 {
        return p.cast();
    }
    // SAFETY: `p` holds `len + 1` bytes; `s` has `len` readable ones.
    unsafe {
        memcpy(p.cast(), s.cast(), len);
        put(p, len, 0);
    }
    p.cast()
}

/// `char *strdup(const char *s)`: `strlen`, then `malloc` and `memcpy`, as Linux's
/// `kstrdup`, so a bad source is reported in `strlen`.
///
/// # Safety
///
/// As C's `strdup`.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "C" fn strdup(s: *const c_char) -> *mut c_char {
    // SAFETY: the caller promises a terminated string.
    unsafe {
        let len = strlen(s);
        dup_bytes(s.cast(), len, |n| malloc_entry()(n))
    }
}

/// `char *strndup(const char *s, size_t n)`: `strnlen`, then as `strdup`.
///
/// # Safety
///
/// As C's `strndup`.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "C" fn strndup(s: *const c_char, n: usize) -> *mut c_char {
    // SAFETY: the caller promises a string terminated or `n` bytes long.
    unsafe {
        let len = strnlen(s, n);
        dup_bytes(s.cast(), len, |n| malloc_entry()(n))
    }
}

/// Compares up to `n` bytes of two strings (folding case when `fold`), checked as
/// they are read; 0 after a report (equal as far as they could be read).
///
/// # Safety
///
/// Both must be terminated or have `n` readable bytes.
unsafe fn compare(site: Site, a: *const u8, b: *const u8, n: usize, fold: bool) -> c_int {
    let mut result = 0;
    let lower = |c: u8| if fold { c.to_ascii_lowercase() } else { c };
    // SAFETY: forwarded from the caller.
    let end = unsafe {
        scan2(site, a, b, n, |_, x, y| {
            result = c_int::from(lower(x)) - c_int::from(lower(y));
            result != 0 || x == 0
        })
    };
    match end {
        Scan::Bad(_) => 0,
        _ => result,
    }
}

/// `int strcmp(const char *a, const char *b)`.
///
/// # Safety
///
/// As C's `strcmp`.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "C" fn strcmp(a: *const c_char, b: *const c_char) -> c_int {
    let site = here!();
    // SAFETY: the caller promises two terminated strings.
    unsafe { compare(site, a.cast(), b.cast(), usize::MAX, false) }
}

/// `int strncmp(const char *a, const char *b, size_t n)`.
///
/// # Safety
///
/// As C's `strncmp`.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "C" fn strncmp(a: *const c_char, b: *const c_char, n: usize) -> c_int {
    let site = here!();
    // SAFETY: the caller promises terminated strings or `n` readable bytes.
    unsafe { compare(site, a.cast(), b.cast(), n, false) }
}

/// `int strcasecmp(const char *a, const char *b)` (ASCII case folding, as Linux's).
///
/// # Safety
///
/// As C's `strcasecmp`.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "C" fn strcasecmp(a: *const c_char, b: *const c_char) -> c_int {
    let site = here!();
    // SAFETY: the caller promises two terminated strings.
    unsafe { compare(site, a.cast(), b.cast(), usize::MAX, true) }
}

/// `int strncasecmp(const char *a, const char *b, size_t n)`.
///
/// # Safety
///
/// As C's `strncasecmp`.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "C" fn strncasecmp(a: *const c_char, b: *const c_char, n: usize) -> c_int {
    let site = here!();
    // SAFETY: the caller promises terminated strings or `n` readable bytes.
    unsafe { compare(site, a.cast(), b.cast(), n, true) }
}

/// The first `c` in the string at `s` (at most `max` bytes; `c == 0` finds the NUL),
/// read for the function of `site`.
///
/// # Safety
///
/// Terminated, or `max` readable bytes.
pub(crate) unsafe fn find_byte(site: Site, s: *const u8, max: usize, c: u8) -> *mut c_char {
    let mut found = false;
    // SAFETY: forwarded from the caller.
    let end = unsafe {
        scan_bytes(site, s, max, |_, b| {
            found = b == c;
            found || b == 0
        })
    };
    match end {
        Scan::Stopped(i) if found => s.wrapping_add(i) as *mut c_char,
        _ => core::ptr::null_mut(),
    }
}

/// `char *strchr(const char *s, int c)`.
///
/// # Safety
///
/// As C's `strchr`.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "C" fn strchr(s: *const c_char, c: c_int) -> *mut c_char {
    let site = here!();
    // SAFETY: the caller promises a terminated string.
    unsafe { find_byte(site, s.cast(), usize::MAX, c as u8) }
}

/// `char *strrchr(const char *s, int c)`: the string read once, the last match
/// remembered.
///
/// # Safety
///
/// As C's `strrchr`.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "C" fn strrchr(s: *const c_char, c: c_int) -> *mut c_char {
    let site = here!();
    let p = s as *const u8;
    let mut last = None;
    // SAFETY: the caller promises a terminated string.
    let end = unsafe {
        scan_bytes(site, p, usize::MAX, |i, b| {
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

/// `char *strstr(const char *haystack, const char *needle)`: Linux's, `strlen` of
/// both, then `memcmp` at each position.
///
/// # Safety
///
/// As C's `strstr`.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "C" fn strstr(haystack: *const c_char, needle: *const c_char) -> *mut c_char {
    // SAFETY: the caller promises two terminated strings.
    unsafe {
        find_string(haystack, needle, |h, n, len| {
            memcmp(h.cast(), n.cast(), len) == 0
        })
    }
}

/// Linux's `strstr` loop with the comparison `same(h, needle, len)` (`memcmp`, or
/// `strncasecmp` for `strcasestr`): `strlen` of both, then the comparison at each
/// position. Inlined, so its calls' reports show the exported function below them.
///
/// # Safety
///
/// Two terminated strings.
#[inline(always)]
pub(crate) unsafe fn find_string(
    haystack: *const c_char,
    needle: *const c_char,
    same: impl Fn(*const c_char, *const c_char, usize) -> bool,
) -> *mut c_char {
    // SAFETY: forwarded from the caller.
    unsafe {
        let l2 = strlen(needle);
        if l2 == 0 {
            return haystack.cast_mut();
        }
        let mut l1 = strlen(haystack);
        let mut h = haystack;
        while l1 >= l2 {
            l1 -= 1;
            if same(h, needle, l2) {
                return h.cast_mut();
            }
            h = h.add(1);
        }
    }
    core::ptr::null_mut()
}

/// The bytes of the string `set` as a 256-bit table, read (and checked) whole for
/// the function of `site`; after a report, its bytes before the bad one.
///
/// # Safety
///
/// A terminated string.
pub(crate) unsafe fn byte_set(site: Site, set: *const u8) -> [u64; 4] {
    let mut table = [0u64; 4];
    // SAFETY: forwarded from the caller.
    unsafe {
        scan_bytes(site, set, usize::MAX, |_, b| {
            table[usize::from(b >> 6)] |= 1 << (b & 63);
            b == 0
        })
    };
    table[0] &= !1;
    table
}

/// Whether `b` is in `table`.
pub(crate) fn in_set(table: &[u64; 4], b: u8) -> bool {
    table[usize::from(b >> 6)] & (1 << (b & 63)) != 0
}

/// The length of the leading part of `s` whose bytes are (`inside`) or are not in
/// `set`: the set read first, then `s` byte by byte.
///
/// # Safety
///
/// Two terminated strings.
unsafe fn span(site: Site, s: *const u8, set: *const u8, inside: bool) -> usize {
    // SAFETY: forwarded from the caller.
    unsafe {
        let table = byte_set(site, set);
        match scan_bytes(site, s, usize::MAX, |_, b| {
            b == 0 || in_set(&table, b) != inside
        }) {
            Scan::Stopped(i) | Scan::Bad(i) => i,
            Scan::Exhausted => usize::MAX,
        }
    }
}

/// `size_t strspn(const char *s, const char *accept)`.
///
/// # Safety
///
/// As C's `strspn`.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "C" fn strspn(s: *const c_char, accept: *const c_char) -> usize {
    let site = here!();
    // SAFETY: the caller promises two terminated strings.
    unsafe { span(site, s.cast(), accept.cast(), true) }
}

/// `size_t strcspn(const char *s, const char *reject)`.
///
/// # Safety
///
/// As C's `strcspn`.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "C" fn strcspn(s: *const c_char, reject: *const c_char) -> usize {
    let site = here!();
    // SAFETY: the caller promises two terminated strings.
    unsafe { span(site, s.cast(), reject.cast(), false) }
}

/// `char *strpbrk(const char *s, const char *accept)`.
///
/// # Safety
///
/// As C's `strpbrk`.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "C" fn strpbrk(s: *const c_char, accept: *const c_char) -> *mut c_char {
    let site = here!();
    let p = s as *const u8;
    // SAFETY: the caller promises two terminated strings.
    unsafe {
        let table = byte_set(site, accept.cast());
        match scan_bytes(site, p, usize::MAX, |_, b| b == 0 || in_set(&table, b)) {
            Scan::Stopped(i) if at(p, i) != 0 => p.add(i) as *mut c_char,
            _ => core::ptr::null_mut(),
        }
    }
}

/// Whether checks are live (the runtime has started); exported for tests.
pub fn checks_live() -> bool {
    ready()
}

#[cfg(test)]
mod copy_tests {
    use super::{fill, move_bytes};

    /// Copies and fills of every length up to past the small-copy limit, into and
    /// across overlapping ranges in both directions, match a byte-at-a-time model.
    #[test]
    fn moves_and_fills_match_the_model() {
        for len in 0..=140usize {
            for shift in -9isize..=9 {
                let mut buf: std::vec::Vec<u8> = (0..400u32).map(|i| (i * 7 + 3) as u8).collect();
                let mut model = buf.clone();
                let src = 100usize;
                let dst = (100 + shift) as usize;
                model.copy_within(src..src + len, dst);
                // SAFETY: both ranges lie inside `buf`.
                unsafe { move_bytes(buf.as_mut_ptr().add(dst), buf.as_ptr().add(src), len) };
                assert_eq!(buf, model, "move len {len} shift {shift}");
            }
            let mut buf = std::vec![0x11u8; 300];
            let mut model = buf.clone();
            model[50..50 + len].iter_mut().for_each(|b| *b = 0xa5);
            // SAFETY: inside `buf`.
            unsafe { fill(buf.as_mut_ptr().add(50), 0xa5, len) };
            assert_eq!(buf, model, "fill len {len}");
        }
    }
}
