//! The runtime's view of the environment at start-up. `getenv` is not usable then:
//! in a dynamically linked program the runtime starts (from `.preinit_array`, or
//! from the first `malloc` the loader makes) before libc has set `environ`. The
//! kernel's copy, `/proc/self/environ`, is read instead, with plain system calls into
//! a buffer of its own `mmap`: nothing here allocates from a heap, and nothing large
//! goes on the stack, however long the value.
#![allow(unsafe_code)]

use core::ptr;

/// A variable's value as the process started with it: the first `keep` bytes at most,
/// in a private mapping released on drop, and the value's whole length.
pub struct InitialVar {
    base: *mut u8,
    map_len: usize,
    held: usize,
    len: usize,
}

impl InitialVar {
    /// The bytes held: the whole value, or its first `keep` bytes if it is longer.
    pub fn bytes(&self) -> &[u8] {
        // SAFETY: `base` is our mapping of `map_len >= held` bytes, of which the first
        // `held` were written by `initial_value`; it lives until drop.
        unsafe { core::slice::from_raw_parts(self.base, self.held) }
    }

    /// The whole value's length in bytes (more than `bytes().len()` if it was cut).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the value is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl core::fmt::Debug for InitialVar {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("InitialVar")
            .field("held", &self.held)
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

impl Drop for InitialVar {
    fn drop(&mut self) {
        // SAFETY: the mapping is ours alone; `bytes()` borrows end before drop.
        unsafe { crate::sys::munmap(self.base.cast(), self.map_len) };
    }
}

/// Size of the read chunk, at the end of the mapping.
const CHUNK: usize = 4096;

/// Finds `name` in the process's initial environment (its first occurrence, as
/// `getenv`); `Ok(None)` if it is unset, `Err(errno)` if no memory could be mapped to
/// read it into. Holds at most `keep` bytes of the value and counts the rest.
pub fn initial_value(name: &str, keep: usize) -> Result<Option<InitialVar>, i32> {
    let map_len = (keep + CHUNK).next_multiple_of(4096);
    // SAFETY: a new private anonymous mapping at an address the kernel chooses
    // overlaps nothing.
    let p = unsafe {
        crate::sys::mmap(
            ptr::null_mut(),
            map_len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0));
    }
    let mut var = InitialVar {
        base: p.cast(),
        map_len,
        held: 0,
        len: 0,
    };
    // SAFETY: the mapping is `map_len >= keep + CHUNK` bytes, zeroed, ours; the value
    // and the chunk are disjoint parts of it, and `var` holds no borrow of either.
    let (value, chunk) = unsafe {
        (
            core::slice::from_raw_parts_mut(var.base, keep),
            core::slice::from_raw_parts_mut(var.base.add(keep), CHUNK),
        )
    };
    // SAFETY: the path is NUL-terminated; open has no other preconditions.
    let fd = unsafe {
        libc::open(
            c"/proc/self/environ".as_ptr(),
            libc::O_RDONLY | libc::O_CLOEXEC,
        )
    };
    let found = if fd < 0 {
        from_getenv(name, value, &mut var)
    } else {
        let found = scan(fd, name.as_bytes(), chunk, value, &mut var);
        // SAFETY: closes the descriptor opened above.
        unsafe { libc::close(fd) };
        found
    };
    Ok(found.then_some(var))
}

/// Where the scan is in the current `NAME=value` entry.
#[derive(Clone, Copy)]
enum At {
    /// This many bytes of the name matched so far.
    Name(usize),
    /// In the value of the entry we look for.
    Value,
    /// In an entry of another name.
    Other,
}

/// Reads the NUL-separated entries from `fd`; on the first `name=` entry, stores its
/// value in `value` (as much as fits) and its length in `var`.
fn scan(fd: i32, name: &[u8], chunk: &mut [u8], value: &mut [u8], var: &mut InitialVar) -> bool {
    let mut at = At::Name(0);
    loop {
        // SAFETY: reads at most `chunk.len()` bytes into `chunk`.
        let n = unsafe { libc::read(fd, chunk.as_mut_ptr().cast(), chunk.len()) };
        if n < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        if n <= 0 {
            // The last entry may lack its NUL.
            return matches!(at, At::Value);
        }
        for &b in &chunk[..n as usize] {
            at = match (at, b) {
                (At::Value, 0) => return true,
                (At::Value, b) => {
                    if let Some(slot) = value.get_mut(var.held) {
                        *slot = b;
                        var.held += 1;
                    }
                    var.len += 1;
                    At::Value
                }
                (_, 0) => At::Name(0),
                (At::Name(i), b'=') if i == name.len() => At::Value,
                (At::Name(i), b) if name.get(i) == Some(&b) => At::Name(i + 1),
                _ => At::Other,
            };
        }
    }
}

fn from_getenv(name: &str, value: &mut [u8], var: &mut InitialVar) -> bool {
    let mut cname = [0u8; 64];
    let Some(slot) = cname.get_mut(..name.len()) else {
        return false;
    };
    slot.copy_from_slice(name.as_bytes());
    // SAFETY: `cname` is NUL-terminated (name is shorter than the buffer).
    let raw = unsafe { libc::getenv(cname.as_ptr().cast()) };
    if raw.is_null() {
        return false;
    }
    // SAFETY: getenv returned a NUL-terminated string.
    let bytes = unsafe { core::ffi::CStr::from_ptr(raw) }.to_bytes();
    let held = bytes.len().min(value.len());
    value[..held].copy_from_slice(&bytes[..held]);
    var.held = held;
    var.len = bytes.len();
    true
}

/// Finds `name` in the process's initial environment and copies its value into
/// `buf`; returns the value, or `None` if it is unset (or longer than `buf`, or not
/// UTF-8).
pub fn initial_var<'b>(name: &str, buf: &'b mut [u8]) -> Option<&'b str> {
    let var = initial_value(name, buf.len()).ok()??;
    let out = buf.get_mut(..var.len())?;
    out.copy_from_slice(var.bytes());
    core::str::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_initial_environment() {
        let mut buf = [0u8; 4096];
        // PATH is set for every test run; the value read must equal std's view.
        let path = std::env::var("PATH").unwrap();
        assert_eq!(initial_var("PATH", &mut buf), Some(path.as_str()));
        assert_eq!(initial_var("KASAN_NO_SUCH_VARIABLE_X", &mut buf), None);
        // A prefix of a name is not a match.
        assert_eq!(initial_var("PAT", &mut buf), None);
        let mut tiny = [0u8; 2];
        assert_eq!(initial_var("PATH", &mut tiny), None);
        // Cut to `keep` bytes, with the whole length counted.
        let var = initial_value("PATH", 3).unwrap().unwrap();
        assert_eq!(var.bytes(), &path.as_bytes()[..3]);
        assert_eq!(var.len(), path.len());
    }

    /// The value `long_values_are_read_whole` passes: 70 000 bytes with a non-UTF-8
    /// byte, and a distinct end.
    fn long_value() -> Vec<u8> {
        let mut v: Vec<u8> = (0..70_000u32).map(|i| b'a' + (i % 26) as u8).collect();
        v[100] = 0xff;
        v.extend(b"END");
        v
    }

    /// Run as a child by `long_values_are_read_whole`, with the variable set; run
    /// alone (variable unset) it checks nothing.
    #[test]
    fn child_reads_long_value() {
        if std::env::var_os("KASAN_ENV_TEST_CHILD").is_none() {
            return;
        }
        let want = long_value();
        let var = initial_value("KASAN_ENV_TEST_LONG", 100_000)
            .unwrap()
            .unwrap();
        assert_eq!(var.len(), want.len());
        assert!(var.bytes() == want.as_slice());
        let cut = initial_value("KASAN_ENV_TEST_LONG", 65_537)
            .unwrap()
            .unwrap();
        assert_eq!(cut.len(), want.len());
        assert!(cut.bytes() == &want[..65_537]);
    }

    #[test]
    fn long_values_are_read_whole() {
        use std::os::unix::ffi::OsStringExt;
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "env::tests::child_reads_long_value",
                "--nocapture",
            ])
            .env("KASAN_ENV_TEST_CHILD", "1")
            .env(
                "KASAN_ENV_TEST_LONG",
                std::ffi::OsString::from_vec(long_value()),
            )
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("1 passed"), "{stdout}");
    }
}
