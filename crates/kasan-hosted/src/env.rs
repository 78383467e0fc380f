//! The runtime's view of the environment at start-up. `getenv` is not usable then:
//! in a dynamically linked program the runtime starts (from `.preinit_array`, or
//! from the first `malloc` the loader makes) before libc has set `environ`. The
//! kernel's copy, `/proc/self/environ`, is read instead, with plain system calls and
//! a stack buffer: nothing here allocates.
#![allow(unsafe_code)]

/// Finds `name` in the process's initial environment and copies its value into
/// `buf`; returns the value, or `None` if it is unset (or longer than `buf`).
pub fn initial_var<'b>(name: &str, buf: &'b mut [u8]) -> Option<&'b str> {
    // SAFETY: the path is NUL-terminated; open has no other preconditions.
    let fd = unsafe {
        libc::open(
            c"/proc/self/environ".as_ptr(),
            libc::O_RDONLY | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return from_getenv(name, buf);
    }
    // Scan entry by entry: `chunk` holds unread input, `entry` the current NAME=value.
    let mut chunk = [0u8; 4096];
    let mut entry_len = 0usize;
    let mut overflow = false;
    let mut found = None;
    'read: loop {
        // SAFETY: reads at most `chunk.len()` bytes into `chunk`.
        let n = unsafe { libc::read(fd, chunk.as_mut_ptr().cast(), chunk.len()) };
        if n <= 0 {
            break;
        }
        for &b in &chunk[..n as usize] {
            if b == 0 {
                if !overflow {
                    if let Some(len) = match_entry(name, &buf[..entry_len]) {
                        found = Some(len);
                        break 'read;
                    }
                }
                entry_len = 0;
                overflow = false;
            } else if entry_len < buf.len() {
                buf[entry_len] = b;
                entry_len += 1;
            } else {
                overflow = true;
            }
        }
    }
    // SAFETY: closes the descriptor opened above.
    unsafe { libc::close(fd) };
    let (prefix, len) = (name.len() + 1, found?);
    buf.copy_within(prefix..prefix + len, 0);
    core::str::from_utf8(&buf[..len]).ok()
}

/// The value length if `entry` is `name=value`.
fn match_entry(name: &str, entry: &[u8]) -> Option<usize> {
    let rest = entry.strip_prefix(name.as_bytes())?;
    let value = rest.strip_prefix(b"=")?;
    Some(value.len())
}

fn from_getenv<'b>(name: &str, buf: &'b mut [u8]) -> Option<&'b str> {
    let mut cname = [0u8; 64];
    cname
        .get_mut(..name.len())?
        .copy_from_slice(name.as_bytes());
    // SAFETY: `cname` is NUL-terminated (name is shorter than the buffer).
    let raw = unsafe { libc::getenv(cname.as_ptr().cast()) };
    if raw.is_null() {
        return None;
    }
    // SAFETY: getenv returned a NUL-terminated string.
    let value = unsafe { core::ffi::CStr::from_ptr(raw) }.to_bytes();
    let out = buf.get_mut(..value.len())?;
    out.copy_from_slice(value);
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
    }
}
