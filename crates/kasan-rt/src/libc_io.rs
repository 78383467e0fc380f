//! Checked libc I/O: the buffers `read`/`write`, `pread`/`pwrite`, `recv`/`send`,
//! `recvfrom`/`sendto`, `fgets`, `fread`/`fwrite`, `puts`/`fputs` read or fill for
//! the program, as ASan's interceptors check them (compiler-rt's
//! `sanitizer_common_interceptors.inc`). Linux has no such functions: these check
//! as Linux checks a range it hands to another agent (its `copy_to_user` and
//! `mem*` intrinsics): the whole buffer at entry, the report naming the caller,
//! `Read`/`Write of size N` at the buffer's start. ASan checks a `read` buffer
//! after the call for the bytes that came; this checks all `count` bytes before
//! (as `_FORTIFY_SOURCE`'s `__read_chk` does), so a bad buffer is never written.
//! After a report the call is not made: it fails with `EFAULT` (what the kernel
//! returns for a bad buffer): -1 for the system calls, NULL for `fgets`, 0 for
//! `fread`/`fwrite`, `EOF` for `puts`/`fputs`.
//!
//! The real functions are glibc's other names for them (`__read`, `_IO_fread`,
//! ...), which this library does not define; `recv`, `recvfrom`, `send` and
//! `sendto` are made, as the kernel makes them, from `recvmsg`/`sendmsg` with one
//! buffer.
#![allow(unsafe_code)]

use core::ffi::{c_char, c_int, c_void};

use kasan_hosted::task::frame_pointer;
use libc::{sockaddr, socklen_t, FILE};

use crate::runtime::check;
use crate::strings::{scan, Scan};

unsafe extern "C" {
    fn __read(fd: c_int, buf: *mut c_void, n: usize) -> isize;
    fn __write(fd: c_int, buf: *const c_void, n: usize) -> isize;
    fn __pread64(fd: c_int, buf: *mut c_void, n: usize, off: i64) -> isize;
    fn __pwrite64(fd: c_int, buf: *const c_void, n: usize, off: i64) -> isize;
    fn _IO_fgets(s: *mut c_char, n: c_int, f: *mut FILE) -> *mut c_char;
    fn _IO_fread(p: *mut c_void, size: usize, n: usize, f: *mut FILE) -> usize;
    fn _IO_fwrite(p: *const c_void, size: usize, n: usize, f: *mut FILE) -> usize;
    fn _IO_puts(s: *const c_char) -> c_int;
    fn _IO_fputs(s: *const c_char, f: *mut FILE) -> c_int;
}

/// Sets `errno` to `EFAULT`.
pub(crate) fn set_efault() {
    // SAFETY: writes this thread's errno.
    unsafe { *libc::__errno_location() = libc::EFAULT };
}

/// Checks a buffer of `n` bytes at `p` the call will fill (`is_write`) or read, for
/// the caller of the function whose frame is `fp`; false (errno `EFAULT`) if it was
/// bad and reported.
#[inline(always)]
fn buffer(p: *const c_void, n: usize, is_write: bool, fp: usize) -> bool {
    let ok = check(p as usize, n, is_write, fp);
    if !ok {
        set_efault();
    }
    ok
}

/// Checks the string at `s` (read through its NUL) for the caller of the function
/// whose frame is `fp`: at the first bad byte, a report of the bytes read so far
/// and it; false (errno `EFAULT`) if so.
///
/// # Safety
///
/// A terminated string (checked bytes are never read past a bad one).
pub(crate) unsafe fn string(s: *const c_char, max: usize, fp: usize) -> bool {
    let base = s as usize;
    // SAFETY: forwarded from the caller.
    let end = unsafe {
        scan(
            s.cast(),
            max,
            |i| crate::runtime::report_access_in(0, base, i + 1, false, fp),
            |_, b| b == 0,
        )
    };
    let ok = !matches!(end, Scan::Bad(_));
    if !ok {
        set_efault();
    }
    ok
}

/// `ssize_t read(int fd, void *buf, size_t count)`.
///
/// # Safety
///
/// As C's `read`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn read(fd: c_int, buf: *mut c_void, count: usize) -> isize {
    if !buffer(buf, count, true, frame_pointer()) {
        return -1;
    }
    // SAFETY: glibc's read.
    unsafe { __read(fd, buf, count) }
}

/// `ssize_t write(int fd, const void *buf, size_t count)`.
///
/// # Safety
///
/// As C's `write`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn write(fd: c_int, buf: *const c_void, count: usize) -> isize {
    if !buffer(buf, count, false, frame_pointer()) {
        return -1;
    }
    // SAFETY: glibc's write.
    unsafe { __write(fd, buf, count) }
}

/// `ssize_t pread(int fd, void *buf, size_t count, off_t offset)`.
///
/// # Safety
///
/// As C's `pread`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pread(fd: c_int, buf: *mut c_void, count: usize, offset: i64) -> isize {
    if !buffer(buf, count, true, frame_pointer()) {
        return -1;
    }
    // SAFETY: glibc's pread.
    unsafe { __pread64(fd, buf, count, offset) }
}

/// `pread64`: `pread` (the same function on x86-64).
///
/// # Safety
///
/// As C's `pread64`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pread64(fd: c_int, buf: *mut c_void, count: usize, offset: i64) -> isize {
    if !buffer(buf, count, true, frame_pointer()) {
        return -1;
    }
    // SAFETY: glibc's pread.
    unsafe { __pread64(fd, buf, count, offset) }
}

/// `ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset)`.
///
/// # Safety
///
/// As C's `pwrite`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pwrite(fd: c_int, buf: *const c_void, count: usize, offset: i64) -> isize {
    if !buffer(buf, count, false, frame_pointer()) {
        return -1;
    }
    // SAFETY: glibc's pwrite.
    unsafe { __pwrite64(fd, buf, count, offset) }
}

/// `pwrite64`: `pwrite`.
///
/// # Safety
///
/// As C's `pwrite64`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pwrite64(
    fd: c_int,
    buf: *const c_void,
    count: usize,
    offset: i64,
) -> isize {
    if !buffer(buf, count, false, frame_pointer()) {
        return -1;
    }
    // SAFETY: glibc's pwrite.
    unsafe { __pwrite64(fd, buf, count, offset) }
}

/// A message header with one buffer and an optional address.
fn one_buffer(iov: &mut libc::iovec, addr: *mut sockaddr, len: socklen_t) -> libc::msghdr {
    // SAFETY: all-zero is a valid msghdr (no name, no buffers, no control data).
    let mut msg: libc::msghdr = unsafe { core::mem::zeroed() };
    msg.msg_iov = iov;
    msg.msg_iovlen = 1;
    if !addr.is_null() {
        msg.msg_name = addr.cast();
        msg.msg_namelen = len;
    }
    msg
}

/// `recvfrom`'s work: `recvmsg` with one buffer and the address, if asked.
///
/// # Safety
///
/// As C's `recvfrom`.
unsafe fn receive(
    fd: c_int,
    buf: *mut c_void,
    len: usize,
    flags: c_int,
    addr: *mut sockaddr,
    alen: *mut socklen_t,
) -> isize {
    let mut iov = libc::iovec {
        iov_base: buf,
        iov_len: len,
    };
    let want = addr.is_null() || alen.is_null();
    // SAFETY: `alen` is read only when the caller gave both.
    let namelen = if want { 0 } else { unsafe { *alen } };
    let mut msg = one_buffer(
        &mut iov,
        if want { core::ptr::null_mut() } else { addr },
        namelen,
    );
    // SAFETY: a valid header describing the caller's buffer.
    let r = unsafe { libc::recvmsg(fd, &mut msg, flags) };
    if r >= 0 && !want {
        // SAFETY: the caller's length, read above.
        unsafe { *alen = msg.msg_namelen };
    }
    r
}

/// `ssize_t recv(int fd, void *buf, size_t len, int flags)`.
///
/// # Safety
///
/// As C's `recv`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn recv(fd: c_int, buf: *mut c_void, len: usize, flags: c_int) -> isize {
    if !buffer(buf, len, true, frame_pointer()) {
        return -1;
    }
    // SAFETY: forwarded.
    unsafe {
        receive(
            fd,
            buf,
            len,
            flags,
            core::ptr::null_mut(),
            core::ptr::null_mut(),
        )
    }
}

/// `ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *addr,
/// socklen_t *addrlen)`: the buffer checked (the address is the kernel's to fill).
///
/// # Safety
///
/// As C's `recvfrom`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn recvfrom(
    fd: c_int,
    buf: *mut c_void,
    len: usize,
    flags: c_int,
    addr: *mut sockaddr,
    addrlen: *mut socklen_t,
) -> isize {
    if !buffer(buf, len, true, frame_pointer()) {
        return -1;
    }
    // SAFETY: forwarded.
    unsafe { receive(fd, buf, len, flags, addr, addrlen) }
}

/// `sendto`'s work: `sendmsg` with one buffer and the address, if given.
///
/// # Safety
///
/// As C's `sendto`.
unsafe fn transmit(
    fd: c_int,
    buf: *const c_void,
    len: usize,
    flags: c_int,
    addr: *const sockaddr,
    alen: socklen_t,
) -> isize {
    let mut iov = libc::iovec {
        iov_base: buf.cast_mut(),
        iov_len: len,
    };
    let msg = one_buffer(&mut iov, addr.cast_mut(), alen);
    // SAFETY: a valid header describing the caller's buffer.
    unsafe { libc::sendmsg(fd, &msg, flags) }
}

/// `ssize_t send(int fd, const void *buf, size_t len, int flags)`.
///
/// # Safety
///
/// As C's `send`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn send(fd: c_int, buf: *const c_void, len: usize, flags: c_int) -> isize {
    if !buffer(buf, len, false, frame_pointer()) {
        return -1;
    }
    // SAFETY: forwarded.
    unsafe { transmit(fd, buf, len, flags, core::ptr::null(), 0) }
}

/// `ssize_t sendto(int fd, const void *buf, size_t len, int flags,
/// const struct sockaddr *addr, socklen_t addrlen)`.
///
/// # Safety
///
/// As C's `sendto`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sendto(
    fd: c_int,
    buf: *const c_void,
    len: usize,
    flags: c_int,
    addr: *const sockaddr,
    addrlen: socklen_t,
) -> isize {
    if !buffer(buf, len, false, frame_pointer()) {
        return -1;
    }
    // SAFETY: forwarded.
    unsafe { transmit(fd, buf, len, flags, addr, addrlen) }
}

/// `char *fgets(char *s, int size, FILE *stream)`: all `size` bytes of `s` checked.
///
/// # Safety
///
/// As C's `fgets`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fgets(s: *mut c_char, size: c_int, stream: *mut FILE) -> *mut c_char {
    if size > 0 && !buffer(s.cast(), size as usize, true, frame_pointer()) {
        return core::ptr::null_mut();
    }
    // SAFETY: glibc's fgets.
    unsafe { _IO_fgets(s, size, stream) }
}

/// `size_t fread(void *p, size_t size, size_t n, FILE *stream)`: `size * n` bytes.
///
/// # Safety
///
/// As C's `fread`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fread(p: *mut c_void, size: usize, n: usize, stream: *mut FILE) -> usize {
    if !buffer(p, size.saturating_mul(n), true, frame_pointer()) {
        return 0;
    }
    // SAFETY: glibc's fread.
    unsafe { _IO_fread(p, size, n, stream) }
}

/// `size_t fwrite(const void *p, size_t size, size_t n, FILE *stream)`.
///
/// # Safety
///
/// As C's `fwrite`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fwrite(
    p: *const c_void,
    size: usize,
    n: usize,
    stream: *mut FILE,
) -> usize {
    if !buffer(p, size.saturating_mul(n), false, frame_pointer()) {
        return 0;
    }
    // SAFETY: glibc's fwrite.
    unsafe { _IO_fwrite(p, size, n, stream) }
}

/// `int puts(const char *s)`: the string read through its NUL.
///
/// # Safety
///
/// As C's `puts`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn puts(s: *const c_char) -> c_int {
    // SAFETY: the caller promises a terminated string.
    if !unsafe { string(s, usize::MAX, frame_pointer()) } {
        return libc::EOF;
    }
    // SAFETY: glibc's puts.
    unsafe { _IO_puts(s) }
}

/// `int fputs(const char *s, FILE *stream)`.
///
/// # Safety
///
/// As C's `fputs`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fputs(s: *const c_char, stream: *mut FILE) -> c_int {
    // SAFETY: the caller promises a terminated string.
    if !unsafe { string(s, usize::MAX, frame_pointer()) } {
        return libc::EOF;
    }
    // SAFETY: glibc's fputs.
    unsafe { _IO_fputs(s, stream) }
}
