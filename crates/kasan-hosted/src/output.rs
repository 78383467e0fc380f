//! Where report text goes: standard error, or the file named by `kasan.log_path`.
//! Writes are raw `write(2)` calls: no buffering, no allocation, usable with locks
//! held and in signal handlers. The core hands over a whole report at once, so a
//! report is one `write` (atomic against other writers of an `O_APPEND` file, such
//! as forked children sharing the log).
//!
//! The log is opened with `O_APPEND`, and with `O_NONBLOCK` while opening (a FIFO
//! without a reader fails at once instead of hanging start-up), then its descriptor
//! is moved to a high number the program's own `open` calls do not reach. Before
//! each write it is checked against the file it was opened on (device and inode):
//! if the program closed it or put something else there, the path is opened again.
//! A write error abandons the log for standard error, with one line saying so, and
//! the text goes to standard error; SIGPIPE is blocked around our writes, and one
//! that our write raised is consumed, so a closed pipe never kills the program.
#![allow(unsafe_code)]

use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};

use kasan_core::config::PATH_MAX;
use kasan_core::report::{JsonLine, JsonStr};
use kasan_core::sync::SpinLock;

/// The log's descriptor; -1 when reports go to standard error.
static LOG_FD: AtomicI32 = AtomicI32::new(-1);
/// Device and inode of the file the log was opened on.
static LOG_DEV: AtomicU64 = AtomicU64::new(0);
static LOG_INO: AtomicU64 = AtomicU64::new(0);
/// The log's path, NUL-terminated, for reopening; also serialises reopening.
static LOG_PATH: SpinLock<[u8; PATH_MAX + 1]> = SpinLock::new([0; PATH_MAX + 1]);
/// Whether the line saying that the log was abandoned has been written.
static ABANDONED: AtomicBool = AtomicBool::new(false);
/// Whether runtime messages are JSON objects (`kasan.report_format=json`).
static JSON: AtomicBool = AtomicBool::new(false);

/// Lowest descriptor number the log is moved to (below the usual 1024 limit).
const HIGH_FD: i32 = 1000;

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Makes the runtime's own messages (the log-abandoned line) JSON objects.
pub fn set_json(json: bool) {
    // Relaxed: set at start-up, before any report.
    JSON.store(json, Ordering::Relaxed);
}

/// Opens `path` (NUL-terminated) for appending, at a high descriptor number;
/// returns the descriptor and the file's device and inode.
fn open_log(path: &[u8]) -> Result<(i32, u64, u64), i32> {
    // SAFETY: `path` is NUL-terminated.
    let fd = unsafe {
        libc::open(
            path.as_ptr().cast(),
            libc::O_WRONLY | libc::O_CREAT | libc::O_APPEND | libc::O_CLOEXEC | libc::O_NONBLOCK,
            0o644,
        )
    };
    if fd < 0 {
        return Err(errno());
    }
    // SAFETY: fcntl and close on the descriptor just opened; fstat fills `st`.
    unsafe {
        let mut limit: libc::rlimit = core::mem::zeroed();
        let ceiling = if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            limit.rlim_cur.min(1024) as i32
        } else {
            256
        };
        let target = HIGH_FD.min(ceiling - 24);
        let fd = if target > fd {
            match libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, target) {
                high if high >= 0 => {
                    libc::close(fd);
                    high
                }
                _ => fd,
            }
        } else {
            fd
        };
        // Blocking writes from now on: a slow reader of a FIFO is waited for.
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags >= 0 {
            libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK);
        }
        let mut st: libc::stat = core::mem::zeroed();
        if libc::fstat(fd, &mut st) != 0 {
            let e = errno();
            libc::close(fd);
            return Err(e);
        }
        Ok((fd, st.st_dev, st.st_ino))
    }
}

fn publish(fd: i32, dev: u64, ino: u64) {
    // Relaxed: the three are read together only by `log_fd`, which re-checks the
    // descriptor against the file itself; a torn view only causes a reopen.
    LOG_DEV.store(dev, Ordering::Relaxed);
    LOG_INO.store(ino, Ordering::Relaxed);
    LOG_FD.store(fd, Ordering::Relaxed);
}

/// Sends output to `path` (created if missing, appended to). On failure output
/// stays on standard error and the error is returned.
pub fn set_log_path(path: &str) -> Result<(), i32> {
    let mut buf = LOG_PATH.lock();
    let len = path.len().min(PATH_MAX);
    buf[..len].copy_from_slice(&path.as_bytes()[..len]);
    buf[len] = 0;
    let (fd, dev, ino) = open_log(&buf[..=len])?;
    publish(fd, dev, ino);
    Ok(())
}

/// The log's descriptor, checked to still be the file it was opened on (reopened if
/// not); -1 for standard error.
fn log_fd() -> i32 {
    // Relaxed: see `publish`.
    let fd = LOG_FD.load(Ordering::Relaxed);
    if fd < 0 {
        return -1;
    }
    // SAFETY: fstat fills `st`; on a descriptor that is not ours it just reports.
    let same = unsafe {
        let mut st: libc::stat = core::mem::zeroed();
        libc::fstat(fd, &mut st) == 0
            && st.st_dev == LOG_DEV.load(Ordering::Relaxed)
            && st.st_ino == LOG_INO.load(Ordering::Relaxed)
    };
    if same {
        return fd;
    }
    // The program closed our descriptor, or put another file there (which stays
    // its own: we do not close it). Never wait for another thread's reopen.
    let Some(path) = LOG_PATH.try_lock() else {
        return -1;
    };
    // Relaxed: see `publish`; under the path lock, so one reopen at a time.
    if LOG_FD.load(Ordering::Relaxed) != fd {
        return LOG_FD.load(Ordering::Relaxed);
    }
    let len = path.iter().position(|&b| b == 0).unwrap_or(0);
    match open_log(&path[..=len]) {
        Ok((fd, dev, ino)) => {
            publish(fd, dev, ino);
            fd
        }
        Err(e) => {
            drop(path);
            abandon(e, "reopen");
            -1
        }
    }
}

/// Gives up the log (after an error) for standard error, saying so once.
fn abandon(errno: i32, what: &str) {
    // Relaxed: reports go to stderr from now on; a racing writer that still used
    // the log either succeeded or comes here too.
    LOG_FD.store(-1, Ordering::Relaxed);
    // Relaxed: only decides who prints the line.
    if ABANDONED.swap(true, Ordering::Relaxed) {
        return;
    }
    let path = LOG_PATH.try_lock();
    let name = path
        .as_ref()
        .map(|p| {
            let len = p.iter().position(|&b| b == 0).unwrap_or(0);
            core::str::from_utf8(&p[..len]).unwrap_or("?")
        })
        .unwrap_or("?");
    let mut buf = [0u8; PATH_MAX + 200];
    let mut w = Buf {
        buf: &mut buf,
        len: 0,
    };
    // Relaxed: see `set_json`.
    let _ = if JSON.load(Ordering::Relaxed) {
        core::fmt::write(
            &mut w,
            format_args!(
                "{},\"warning\":\"cannot {what} kasan.log_path; reports go to stderr\",\"path\":{},\"errno\":{errno}}}\n",
                JsonLine("warning"),
                JsonStr(name)
            ),
        )
    } else {
        core::fmt::write(
            &mut w,
            format_args!(
                "kasan: cannot {what} kasan.log_path '{name}': errno {errno}; reports go to stderr\n"
            ),
        )
    };
    let len = w.len;
    let _ = write_fd(2, &buf[..len]);
}

/// A truncating formatting buffer.
struct Buf<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl core::fmt::Write for Buf<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let n = s.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

/// Writes one of the runtime's own messages (`kasan: ...` lines: warnings, the
/// fault lines, the statistics) to the report destination, in one write: as is in
/// text mode; in JSON mode as one object,
/// `{"version":1,"kind":"warning","mode":"generic","warning":"..."}`, so that every
/// line on the stream stays a JSON object. `N` bounds the JSON form (on the
/// caller's stack; a longer message is cut).
pub fn write_message<const N: usize>(bytes: &[u8]) {
    // Relaxed: see `set_json`.
    if !JSON.load(Ordering::Relaxed) {
        write(bytes);
        return;
    }
    let mut buf = [0u8; N];
    let len = json_line(&mut buf, "warning", "warning", bytes);
    write(&buf[..len]);
}

/// Formats `text` (a `kasan: ...` message, its prefix and final newline dropped)
/// into `buf` as one JSON line of `kind` with the text under `field`; returns its
/// length. A text too long for `buf` is cut, the line still whole.
fn json_line(buf: &mut [u8], kind: &'static str, field: &str, text: &[u8]) -> usize {
    let text = text.strip_prefix(b"kasan: ").unwrap_or(text);
    let text = text.strip_suffix(b"\n").unwrap_or(text);
    let n = buf.len();
    let mut w = Buf { buf, len: 0 };
    // Room for the closing `"}` and the newline, whatever was cut.
    let room = n.saturating_sub(3);
    let _ = core::fmt::write(&mut w, format_args!("{},\"{field}\":\"", JsonLine(kind)));
    let chars = text.utf8_chunks().flat_map(|chunk| {
        chunk
            .valid()
            .chars()
            .chain(chunk.invalid().iter().map(|_| '?'))
    });
    for c in chars {
        let mut one = [0u8; 8];
        let esc: &str = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\t' => "\\t",
            c if (c as u32) < 0x20 => {
                let hex = b"0123456789abcdef";
                one[..4].copy_from_slice(b"\\u00");
                one[4] = hex[(c as usize) >> 4];
                one[5] = hex[(c as usize) & 15];
                core::str::from_utf8(&one[..6]).unwrap_or("?")
            }
            c => c.encode_utf8(&mut one),
        };
        if w.len + esc.len() > room {
            break;
        }
        let _ = core::fmt::Write::write_str(&mut w, esc);
    }
    let _ = core::fmt::Write::write_str(&mut w, "\"}\n");
    w.len
}

/// Writes the line a halt prints (`kasan.fault=panic`...): Linux's `Kernel panic -
/// not syncing: <message>`, or in JSON mode one object,
/// `{"version":1,"kind":"panic","mode":"generic","panic":"<message>"}`.
pub fn write_panic(message: &str) {
    // Relaxed: see `set_json`.
    if JSON.load(Ordering::Relaxed) {
        let mut buf = [0u8; 512];
        let len = json_line(&mut buf, "panic", "panic", message.as_bytes());
        write(&buf[..len]);
    } else {
        let mut buf = [0u8; 512];
        let mut w = Buf {
            buf: &mut buf,
            len: 0,
        };
        let _ = core::fmt::write(
            &mut w,
            format_args!("Kernel panic - not syncing: {message}"),
        );
        let len = w.len;
        write(&buf[..len]);
    }
}

/// Writes all of `bytes` to the report destination: the log if it takes them,
/// standard error otherwise.
pub fn write(bytes: &[u8]) {
    let fd = log_fd();
    if fd >= 0 {
        match write_fd(fd, bytes) {
            Ok(()) => return,
            Err(e) => abandon(e, "write to"),
        }
    }
    let _ = write_fd(2, bytes);
}

/// Writes one of the runtime's own messages to standard error (start-up errors,
/// the `kasan.log_path` that cannot be opened): as is, or in JSON mode as a
/// warning object (see [`write_message`]; up to 1 KiB).
pub fn write_stderr(bytes: &[u8]) {
    // Relaxed: see `set_json`.
    if JSON.load(Ordering::Relaxed) {
        let mut buf = [0u8; 1024];
        let len = json_line(&mut buf, "warning", "warning", bytes);
        let _ = write_fd(2, &buf[..len]);
    } else {
        let _ = write_fd(2, bytes);
    }
}

/// Writes all of `bytes` to `fd` with SIGPIPE blocked; a SIGPIPE our write raised
/// (EPIPE) is consumed, one that was pending before is left for the program.
fn write_fd(fd: i32, bytes: &[u8]) -> Result<(), i32> {
    // SAFETY: signal-mask calls on sets we own; write from a live slice; poll on
    // one pollfd.
    unsafe {
        let mut pipe: libc::sigset_t = core::mem::zeroed();
        libc::sigemptyset(&mut pipe);
        libc::sigaddset(&mut pipe, libc::SIGPIPE);
        let mut old: libc::sigset_t = core::mem::zeroed();
        libc::pthread_sigmask(libc::SIG_BLOCK, &pipe, &mut old);
        let mut pending: libc::sigset_t = core::mem::zeroed();
        let was_pending =
            libc::sigpending(&mut pending) == 0 && libc::sigismember(&pending, libc::SIGPIPE) == 1;
        let mut rest = bytes;
        let mut result = Ok(());
        let mut waits = 0;
        while !rest.is_empty() {
            // The system call itself, not libc's `write`: the runtime checks a program's
            // `write` buffers (kasan-rt's libc_io), and its own output must not depend
            // on the shadow of its buffers, which a wild program write may have changed.
            let n = libc::syscall(libc::SYS_write, fd, rest.as_ptr(), rest.len()) as isize;
            if n >= 0 {
                rest = &rest[n as usize..];
                continue;
            }
            match errno() {
                libc::EINTR => continue,
                libc::EAGAIN if waits < 10 => {
                    // A descriptor the program made non-blocking: wait for room.
                    waits += 1;
                    let mut p = libc::pollfd {
                        fd,
                        events: libc::POLLOUT,
                        revents: 0,
                    };
                    libc::poll(&mut p, 1, 100);
                }
                e => {
                    if e == libc::EPIPE && !was_pending {
                        let zero = libc::timespec {
                            tv_sec: 0,
                            tv_nsec: 0,
                        };
                        libc::sigtimedwait(&pipe, core::ptr::null_mut(), &zero);
                    }
                    result = Err(e);
                    break;
                }
            }
        }
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, core::ptr::null_mut());
        result
    }
}

#[cfg(test)]
mod tests {
    use super::json_line;

    fn line(n: usize, text: &[u8]) -> String {
        let mut buf = vec![0u8; n];
        let len = json_line(&mut buf, "warning", "warning", text);
        String::from_utf8(buf[..len].to_vec()).unwrap()
    }

    #[test]
    fn messages_become_one_json_line() {
        assert_eq!(
            line(256, b"kasan: a \"b\"\\\tc\nd\x01\xff\n"),
            "{\"version\":1,\"kind\":\"warning\",\"mode\":\"generic\",\"warning\":\"a \\\"b\\\"\\\\\\tc\\nd\\u0001?\"}\n"
        );
        // Cut to the buffer, still closed.
        let cut = line(80, &[b'x'; 200]);
        assert_eq!(cut.len(), 80);
        assert!(cut.ends_with("xx\"}\n"), "{cut}");
        // An escape is never cut in half.
        let cut = line(79, &[b'"'; 200]);
        assert!(cut.ends_with("\\\"\"}\n"), "{cut}");
    }
}
