//! Where report text goes: standard error, or the file named by `kasan.log_path`
//! (opened once, appended to). Writes are raw `write(2)` calls: no buffering, no
//! allocation, usable with locks held.
#![allow(unsafe_code)]

use core::sync::atomic::{AtomicI32, Ordering};

static FD: AtomicI32 = AtomicI32::new(2);

/// Sends output to `path` (created if missing, appended to). On failure output
/// stays on standard error and the error is returned.
pub fn set_log_path(path: &str) -> Result<(), i32> {
    let mut buf = [0u8; kasan_core::config::PATH_MAX + 1];
    buf[..path.len()].copy_from_slice(path.as_bytes());
    // SAFETY: `buf` is NUL-terminated (the config bounds the path length).
    let fd = unsafe {
        libc::open(
            buf.as_ptr().cast(),
            libc::O_WRONLY | libc::O_CREAT | libc::O_APPEND | libc::O_CLOEXEC,
            0o644,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0));
    }
    FD.store(fd, Ordering::Relaxed);
    Ok(())
}

/// Writes all of `bytes` to the report destination.
pub fn write(bytes: &[u8]) {
    write_fd(FD.load(Ordering::Relaxed), bytes);
}

/// Writes all of `bytes` to standard error.
pub fn write_stderr(bytes: &[u8]) {
    write_fd(2, bytes);
}

fn write_fd(fd: i32, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        // SAFETY: writes from a live slice.
        let n = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
        if n < 0 {
            if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return;
        }
        bytes = &bytes[n as usize..];
    }
}
