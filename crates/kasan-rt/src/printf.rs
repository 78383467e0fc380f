//! The checked `printf` family: `printf`, `fprintf`, `dprintf`, `sprintf`,
//! `snprintf`, `asprintf` and their `v` forms. As ASan's interceptors do (its
//! `printf_common` format parser), the format string is read through its NUL and
//! each argument the format makes glibc dereference is checked: a `%s` string read
//! through its NUL (or up to its precision; NULL prints `(null)` and is not checked)
//! and a `%n` target written (1, 2, 4 or 8 bytes by its length modifier). Then the
//! destination: `snprintf`'s `size` bytes, `sprintf`'s formatted length and its NUL
//! (measured first with a `vsnprintf` of a copy of the arguments), `asprintf`'s
//! result pointer. The parser knows C's and glibc's conversions, flags, widths,
//! precisions (`*` too) and length modifiers; at a positional argument (`%1$s`) or an
//! unknown conversion it stops checking the rest of that format.
//!
//! Reports are range reports naming the caller, as for the other libc buffer
//! functions ([`crate::libc_io`]): a `%s` string's bytes up to and including its
//! first bad one, `Read of size N` at its start. After a report nothing is printed:
//! the call fails with `EFAULT` (-1).
//!
//! The real work is glibc's `__v*printf_chk` with no fortify flag (exactly the plain
//! functions), which this library does not define, so nothing here calls back into
//! it. The variadic entry points are a few instructions of assembly that build the
//! `va_list` as a C compiler's prologue does (Rust cannot define a variadic function
//! yet) and pass it, with their frame, to the `v` form's work.
#![allow(unsafe_code)]

use core::ffi::{c_char, c_int};

use kasan_hosted::task::frame_pointer;
use libc::FILE;

use crate::libc_io::{set_efault, string};
use crate::runtime::check;

/// The x86-64 System V `va_list` (one element of the array type C passes by
/// pointer).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct VaList {
    gp_offset: u32,
    fp_offset: u32,
    overflow: *mut u8,
    regs: *mut u8,
}

impl VaList {
    /// The next integer or pointer argument.
    ///
    /// # Safety
    ///
    /// The caller passed one.
    unsafe fn gp(&mut self) -> usize {
        // SAFETY: the register save area and the overflow area hold the arguments
        // the caller passed, in order.
        unsafe {
            if self.gp_offset < 48 {
                let v = self
                    .regs
                    .add(self.gp_offset as usize)
                    .cast::<usize>()
                    .read_unaligned();
                self.gp_offset += 8;
                v
            } else {
                let v = self.overflow.cast::<usize>().read_unaligned();
                self.overflow = self.overflow.add(8);
                v
            }
        }
    }

    /// Skips a `double` argument.
    fn fp(&mut self) {
        if self.fp_offset < 176 {
            self.fp_offset += 16;
        } else {
            self.overflow = self.overflow.wrapping_add(8);
        }
    }

    /// Skips a `long double` argument (always in memory, 16-byte aligned).
    fn long_double(&mut self) {
        let p = (self.overflow as usize + 15) & !15;
        self.overflow = (p + 16) as *mut u8;
    }
}

/// How a conversion's length modifier sizes a `%n` target.
fn n_size(length: &[u8]) -> usize {
    match length {
        b"hh" => 1,
        b"h" => 2,
        b"" => 4,
        _ => 8,
    }
}

/// Checks the format string at `fmt` and the arguments `ap` holds for it, for the
/// caller of the function whose frame is `fp`; false (errno `EFAULT`) after a report.
///
/// # Safety
///
/// A terminated format and the arguments it names.
unsafe fn check_format(fmt: *const c_char, ap: *const VaList, fp: usize) -> bool {
    // SAFETY: the caller promises a terminated format.
    if !unsafe { string(fmt, usize::MAX, fp) } {
        return false;
    }
    // SAFETY: `ap` is the caller's va_list; the walk reads a copy.
    let mut ap = unsafe { *ap };
    let f = fmt.cast::<u8>();
    // SAFETY: the format was read whole above.
    let byte = |i: usize| unsafe { *f.add(i) };
    let digits = |i: &mut usize| {
        let mut v = 0usize;
        while byte(*i).is_ascii_digit() {
            v = v
                .saturating_mul(10)
                .saturating_add(usize::from(byte(*i) - b'0'));
            *i += 1;
        }
        v
    };
    let mut i = 0;
    loop {
        match byte(i) {
            0 => return true,
            b'%' => {}
            _ => {
                i += 1;
                continue;
            }
        }
        i += 1;
        if byte(i) == b'%' {
            i += 1;
            continue;
        }
        let start = i;
        digits(&mut i);
        if byte(i) == b'$' {
            return true;
        }
        i = start;
        while matches!(byte(i), b'-' | b'+' | b' ' | b'#' | b'0' | b'\'' | b'I') {
            i += 1;
        }
        if byte(i) == b'*' {
            i += 1;
            if byte(i).is_ascii_digit() {
                return true;
            }
            // SAFETY: the caller passed the width.
            unsafe { ap.gp() };
        } else {
            digits(&mut i);
        }
        let mut precision = usize::MAX;
        if byte(i) == b'.' {
            i += 1;
            if byte(i) == b'*' {
                i += 1;
                if byte(i).is_ascii_digit() {
                    return true;
                }
                // SAFETY: the caller passed the precision.
                let p = unsafe { ap.gp() } as c_int;
                if p >= 0 {
                    precision = p as usize;
                }
            } else {
                precision = digits(&mut i);
            }
        }
        let len_start = i;
        while matches!(
            byte(i),
            b'h' | b'l' | b'L' | b'q' | b'j' | b'z' | b'Z' | b't'
        ) {
            i += 1;
        }
        // SAFETY: inside the format.
        let length = unsafe { core::slice::from_raw_parts(f.add(len_start), i - len_start) };
        let conv = byte(i);
        i += 1;
        match conv {
            b'd' | b'i' | b'o' | b'u' | b'x' | b'X' | b'c' | b'b' | b'B' | b'p' | b'C' | b'S' => {
                // SAFETY: the caller passed it.
                unsafe { ap.gp() };
            }
            b'e' | b'f' | b'g' | b'a' | b'E' | b'F' | b'G' | b'A' => {
                if length == b"L" {
                    ap.long_double();
                } else {
                    ap.fp();
                }
            }
            b's' => {
                // SAFETY: the caller passed it.
                let s = unsafe { ap.gp() } as *const c_char;
                // SAFETY: a `%s` argument is terminated or `precision` bytes long.
                if length.is_empty() && !s.is_null() && !unsafe { string(s, precision, fp) } {
                    return false;
                }
            }
            b'n' => {
                // SAFETY: the caller passed it.
                let p = unsafe { ap.gp() };
                if !check(p, n_size(length), true, fp) {
                    set_efault();
                    return false;
                }
            }
            b'm' => {}
            _ => return true,
        }
    }
}

unsafe extern "C" {
    static stdout: *mut FILE;
    fn __vfprintf_chk(f: *mut FILE, flag: c_int, fmt: *const c_char, ap: *mut VaList) -> c_int;
    fn __vdprintf_chk(fd: c_int, flag: c_int, fmt: *const c_char, ap: *mut VaList) -> c_int;
    fn __vsnprintf_chk(
        s: *mut c_char,
        n: usize,
        flag: c_int,
        slen: usize,
        fmt: *const c_char,
        ap: *mut VaList,
    ) -> c_int;
    fn __vsprintf_chk(
        s: *mut c_char,
        flag: c_int,
        slen: usize,
        fmt: *const c_char,
        ap: *mut VaList,
    ) -> c_int;
    fn __vasprintf_chk(
        s: *mut *mut c_char,
        flag: c_int,
        fmt: *const c_char,
        ap: *mut VaList,
    ) -> c_int;
}

/// `vfprintf`'s work for the caller of the function whose frame is `fp`.
unsafe extern "C" fn vfprintf_at(
    f: *mut FILE,
    fmt: *const c_char,
    ap: *mut VaList,
    fp: usize,
) -> c_int {
    // SAFETY: forwarded from the C caller.
    unsafe {
        if !check_format(fmt, ap, fp) {
            return -1;
        }
        __vfprintf_chk(f, 0, fmt, ap)
    }
}

/// `printf`'s work.
unsafe extern "C" fn vprintf_at(fmt: *const c_char, ap: *mut VaList, fp: usize) -> c_int {
    // SAFETY: glibc's stdout, and forwarded.
    unsafe { vfprintf_at(stdout, fmt, ap, fp) }
}

/// `vdprintf`'s work.
unsafe extern "C" fn vdprintf_at(
    fd: c_int,
    fmt: *const c_char,
    ap: *mut VaList,
    fp: usize,
) -> c_int {
    // SAFETY: forwarded from the C caller.
    unsafe {
        if !check_format(fmt, ap, fp) {
            return -1;
        }
        __vdprintf_chk(fd, 0, fmt, ap)
    }
}

/// `vsnprintf`'s work: the format, then `n` bytes of `s`.
unsafe extern "C" fn vsnprintf_at(
    s: *mut c_char,
    n: usize,
    fmt: *const c_char,
    ap: *mut VaList,
    fp: usize,
) -> c_int {
    // SAFETY: forwarded from the C caller.
    unsafe {
        if !check_format(fmt, ap, fp) {
            return -1;
        }
        if n > 0 && !check(s as usize, n, true, fp) {
            set_efault();
            return -1;
        }
        __vsnprintf_chk(s, n, 0, n, fmt, ap)
    }
}

/// `vsprintf`'s work: the format, then the formatted length and its NUL at `s`.
unsafe extern "C" fn vsprintf_at(
    s: *mut c_char,
    fmt: *const c_char,
    ap: *mut VaList,
    fp: usize,
) -> c_int {
    // SAFETY: forwarded from the C caller; the length is measured on a copy of the
    // arguments (`va_copy` is a copy on x86-64).
    unsafe {
        if !check_format(fmt, ap, fp) {
            return -1;
        }
        let mut copy = *ap;
        let len = __vsnprintf_chk(core::ptr::null_mut(), 0, 0, 0, fmt, &mut copy);
        if len >= 0 && !check(s as usize, len as usize + 1, true, fp) {
            set_efault();
            return -1;
        }
        __vsprintf_chk(s, 0, usize::MAX, fmt, ap)
    }
}

/// `vasprintf`'s work: the format, then the result pointer.
unsafe extern "C" fn vasprintf_at(
    strp: *mut *mut c_char,
    fmt: *const c_char,
    ap: *mut VaList,
    fp: usize,
) -> c_int {
    // SAFETY: forwarded from the C caller.
    unsafe {
        if !check_format(fmt, ap, fp) {
            return -1;
        }
        if !check(strp as usize, 8, true, fp) {
            set_efault();
            return -1;
        }
        __vasprintf_chk(strp, 0, fmt, ap)
    }
}

/// A variadic entry point: saves the argument registers as a C prologue does, builds
/// the `va_list` (`$gp` named integer arguments) in its frame, and calls `$work` with
/// the named arguments, the `va_list` (in `$ap`) and its frame (in `$fp`).
macro_rules! variadic {
    ($(#[$doc:meta])* $name:ident, $work:ident, $gp:literal, $ap:literal, $fp:literal) => {
        $(#[$doc])*
        ///
        /// # Safety
        ///
        /// As the C function: a terminated format and the arguments it names.
        #[unsafe(naked)]
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn $name() -> c_int {
            core::arch::naked_asm!(
                "push rbp",
                "mov rbp, rsp",
                "sub rsp, 208",
                "mov [rsp], rdi",
                "mov [rsp + 8], rsi",
                "mov [rsp + 16], rdx",
                "mov [rsp + 24], rcx",
                "mov [rsp + 32], r8",
                "mov [rsp + 40], r9",
                "test al, al",
                "je 2f",
                "movaps [rsp + 48], xmm0",
                "movaps [rsp + 64], xmm1",
                "movaps [rsp + 80], xmm2",
                "movaps [rsp + 96], xmm3",
                "movaps [rsp + 112], xmm4",
                "movaps [rsp + 128], xmm5",
                "movaps [rsp + 144], xmm6",
                "movaps [rsp + 160], xmm7",
                "2:",
                concat!("mov dword ptr [rsp + 176], ", $gp),
                "mov dword ptr [rsp + 180], 48",
                "lea rax, [rbp + 16]",
                "mov [rsp + 184], rax",
                "mov [rsp + 192], rsp",
                concat!("lea ", $ap, ", [rsp + 176]"),
                concat!("mov ", $fp, ", rbp"),
                "call {work}",
                "leave",
                "ret",
                work = sym $work,
            )
        }
    };
}

variadic!(
    /// `int printf(const char *fmt, ...)`.
    printf, vprintf_at, "8", "rsi", "rdx"
);
variadic!(
    /// `int fprintf(FILE *f, const char *fmt, ...)`.
    fprintf, vfprintf_at, "16", "rdx", "rcx"
);
variadic!(
    /// `int dprintf(int fd, const char *fmt, ...)`.
    dprintf, vdprintf_at, "16", "rdx", "rcx"
);
variadic!(
    /// `int sprintf(char *s, const char *fmt, ...)`.
    sprintf, vsprintf_at, "16", "rdx", "rcx"
);
variadic!(
    /// `int snprintf(char *s, size_t n, const char *fmt, ...)`.
    snprintf, vsnprintf_at, "24", "rcx", "r8"
);
variadic!(
    /// `int asprintf(char **strp, const char *fmt, ...)`.
    asprintf, vasprintf_at, "16", "rdx", "rcx"
);

/// `int vprintf(const char *fmt, va_list ap)`.
///
/// # Safety
///
/// As C's `vprintf`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vprintf(fmt: *const c_char, ap: *mut VaList) -> c_int {
    // SAFETY: forwarded.
    unsafe { vprintf_at(fmt, ap, frame_pointer()) }
}

/// `int vfprintf(FILE *f, const char *fmt, va_list ap)`.
///
/// # Safety
///
/// As C's `vfprintf`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vfprintf(f: *mut FILE, fmt: *const c_char, ap: *mut VaList) -> c_int {
    // SAFETY: forwarded.
    unsafe { vfprintf_at(f, fmt, ap, frame_pointer()) }
}

/// `int vdprintf(int fd, const char *fmt, va_list ap)`.
///
/// # Safety
///
/// As C's `vdprintf`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vdprintf(fd: c_int, fmt: *const c_char, ap: *mut VaList) -> c_int {
    // SAFETY: forwarded.
    unsafe { vdprintf_at(fd, fmt, ap, frame_pointer()) }
}

/// `int vsprintf(char *s, const char *fmt, va_list ap)`.
///
/// # Safety
///
/// As C's `vsprintf`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vsprintf(s: *mut c_char, fmt: *const c_char, ap: *mut VaList) -> c_int {
    // SAFETY: forwarded.
    unsafe { vsprintf_at(s, fmt, ap, frame_pointer()) }
}

/// `int vsnprintf(char *s, size_t n, const char *fmt, va_list ap)`.
///
/// # Safety
///
/// As C's `vsnprintf`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vsnprintf(
    s: *mut c_char,
    n: usize,
    fmt: *const c_char,
    ap: *mut VaList,
) -> c_int {
    // SAFETY: forwarded.
    unsafe { vsnprintf_at(s, n, fmt, ap, frame_pointer()) }
}

/// `int vasprintf(char **strp, const char *fmt, va_list ap)`.
///
/// # Safety
///
/// As C's `vasprintf`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vasprintf(
    strp: *mut *mut c_char,
    fmt: *const c_char,
    ap: *mut VaList,
) -> c_int {
    // SAFETY: forwarded.
    unsafe { vasprintf_at(strp, fmt, ap, frame_pointer()) }
}
