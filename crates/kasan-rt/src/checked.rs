//! The checked-function table: every memory, string, I/O and copy function the
//! library defines for the program, what it checks and whose behaviour it follows.
//! The one list: `abi.txt`'s "Checked functions" section must name exactly these
//! (and `nm` must find every name of `abi.txt` in the library, tested in
//! kasan-e2e's `abi` test), and the README shows [`markdown`] verbatim (tested
//! here).

/// Whose implementation a checked function follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model {
    /// Linux's range-checked `mem*` intrinsics (`mm/kasan/shadow.c`): the whole
    /// range at entry, the report naming the caller; the operation skipped and NULL
    /// returned after a report.
    LinuxRange,
    /// Linux's instrumented C (`lib/string.c`, `mm/util.c`, `lib/usercopy.c`...):
    /// each access checked as it is made; the function carries on after a report.
    Linux,
    /// A libc function Linux does not have, checked as ASan's interceptor checks it.
    Libc,
}

impl Model {
    fn label(self) -> &'static str {
        match self {
            Model::LinuxRange => "Linux, range at entry",
            Model::Linux => "Linux, as instrumented",
            Model::Libc => "ASan interceptor",
        }
    }
}

/// One checked function.
#[derive(Debug, Clone, Copy)]
pub struct Checked {
    /// Its C name.
    pub name: &'static str,
    /// Whose behaviour it follows.
    pub model: Model,
    /// What it checks, and what the report says.
    pub checks: &'static str,
}

const fn f(name: &'static str, model: Model, checks: &'static str) -> Checked {
    Checked {
        name,
        model,
        checks,
    }
}

use Model::{Libc, Linux, LinuxRange};

/// Every checked function, in the README's order.
pub const CHECKED: &[Checked] = &[
    f("memcpy", LinuxRange, "read of `src`, write of `dst`, `len` bytes each; report in the caller; skipped, NULL returned"),
    f("memmove", LinuxRange, "as `memcpy`"),
    f("memset", LinuxRange, "write of `len` bytes; report in the caller; skipped, NULL returned"),
    f("__asan_memcpy", LinuxRange, "clang's prefixed `memcpy`, the same"),
    f("__asan_memmove", LinuxRange, "clang's prefixed `memmove`, the same"),
    f("__asan_memset", LinuxRange, "clang's prefixed `memset`, the same"),
    f("memcmp", Linux, "8 bytes of each at a time while 8 remain (`Read of size 8`), then bytes (size 1), `a`'s before `b`'s; report in `memcmp`"),
    f("bcmp", Linux, "calls `memcmp`"),
    f("memchr", Linux, "each byte read up to the match or `n`; report in `memchr`, `Read of size 1` at the first bad byte"),
    f("memscan", Linux, "as `memchr`; report in `memscan`"),
    f("strlen", Linux, "each byte through the NUL; report in `strlen`, `Read of size 1` at the first bad byte"),
    f("strnlen", Linux, "as `strlen`, at most `max` bytes"),
    f("strcpy", Linux, "byte `i` of `src` read, then of `dst` written, through the NUL; report in `strcpy`, size 1"),
    f("stpcpy", Linux, "as `strcpy`"),
    f("strncpy", Linux, "`src` read up to its NUL, `dst` written for all `n` bytes (NUL padding); size 1"),
    f("strcat", Linux, "`dst`'s string read to its NUL, then `src` copied there as by `strcpy`"),
    f("strncat", Linux, "as `strcat`, at most `n` bytes of `src`, then a NUL"),
    f("strcmp", Linux, "byte `i` of `a`, then of `b`, up to the first difference or NUL; size 1"),
    f("strncmp", Linux, "as `strcmp`, at most `n` bytes"),
    f("strcasecmp", Linux, "as `strcmp`, ASCII case folded"),
    f("strncasecmp", Linux, "as `strncmp`, ASCII case folded"),
    f("strchr", Linux, "each byte up to the match or the NUL; size 1"),
    f("strrchr", Linux, "each byte through the NUL; size 1"),
    f("strnchr", Linux, "as `strchr`, at most `count` bytes"),
    f("strstr", Linux, "`strlen` of both, then `memcmp` at each position (reports in those, `strstr` below)"),
    f("strspn", Linux, "the `accept` set through its NUL, then each byte of `s`; size 1"),
    f("strcspn", Linux, "as `strspn`, with the `reject` set"),
    f("strpbrk", Linux, "as `strcspn`"),
    f("strsep", Linux, "`*s` read (8 bytes), `strpbrk`, the delimiter written (1 byte), `*s` written (8 bytes)"),
    f("strscpy", Linux, "byte `i` of `src` read, then of `dst` written, at most `count`; size 1 (Linux's word loop checks a word's first byte only)"),
    f("strlcpy", Linux, "`strlen(src)`, then `memcpy` of what fits (range, report in `strlcpy`) and its NUL (1 byte)"),
    f("strlcat", Linux, "`strlen` of both, then as `strlcpy` after `dst`'s string; no copy where Linux has a `BUG_ON`"),
    f("kstrdup", Linux, "`strlen` (report in `strlen`, `kstrdup` below), `kmalloc`, `memcpy`"),
    f("kstrndup", Linux, "`strnlen`, then as `kstrdup`"),
    f("kmemdup", Linux, "`kmalloc`, then `memcpy` of `len` bytes (range: report in `kmemdup`, `Read of size len`); returned uncopied after a report"),
    f("copy_to_user", Linux, "read of `from`, `n` bytes, at entry (`instrument_copy_to_user`); report in the caller; returns the bytes not copied"),
    f("copy_from_user", Linux, "write of `to`, `n` bytes, at entry (`instrument_copy_from_user`); report in the caller; the uncopied tail zeroed"),
    f("strncpy_from_user", Linux, "write of `dst`, `count` bytes, at entry (`kasan_check_write`); report in `strncpy_from_user`"),
    f("__copy_to_user", Linux, "as `copy_to_user` (no `access_ok`: a process has no user/kernel split)"),
    f("__copy_from_user", Linux, "as `copy_from_user`"),
    f("__copy_to_user_inatomic", Linux, "as `copy_to_user`"),
    f("__copy_from_user_inatomic", Linux, "as `copy_from_user`"),
    f("copy_to_kernel_nofault", Linux, "write of `dst` and read of `src`, `size` bytes, at entry; report in the caller at the first bad byte; the good prefix copied, `-EFAULT`"),
    f("memccpy", Libc, "as `strcpy`, through the first `c` or `n` bytes; report in `memccpy`, size 1"),
    f("strdup", Libc, "`strlen` (report in `strlen`, `strdup` below), `malloc`, `memcpy`, as Linux's `kstrdup`"),
    f("strndup", Libc, "`strnlen`, then as `strdup`"),
    f("strtok", Libc, "the delimiters through their NUL, then `s` byte by byte to the token's end, the NUL stored there (1 byte); report in `strtok`, size 1; the string then ends at the bad byte"),
    f("strtok_r", Libc, "as `strtok`; report in `strtok_r`"),
    f("strcasestr", Libc, "as `strstr`, with `strncasecmp`"),
    f("memmem", Libc, "read of both ranges whole at entry; report in the caller; NULL returned"),
    f("atoi", Libc, "the bytes `strtol` reads (space, sign, digits and the byte ending them); report in `atoi`, size 1 at the first bad one; the number its good bytes spell"),
    f("atol", Libc, "as `atoi`"),
    f("atoll", Libc, "as `atoi`"),
    f("strtol", Libc, "as `atoi`, with `base` and its `0x` prefix; `endptr` and `errno` as libc's"),
    f("strtoll", Libc, "as `strtol`"),
    f("strtoul", Libc, "as `strtol`"),
    f("strtoull", Libc, "as `strtol`"),
    f("read", Libc, "write of `buf`, all `count` bytes, before the call; report in the caller; fails with `EFAULT`"),
    f("pread", Libc, "as `read`"),
    f("pread64", Libc, "as `read`"),
    f("recv", Libc, "as `read`, `len` bytes"),
    f("recvfrom", Libc, "as `recv`"),
    f("write", Libc, "read of `buf`, `count` bytes, before the call; report in the caller; fails with `EFAULT`"),
    f("pwrite", Libc, "as `write`"),
    f("pwrite64", Libc, "as `write`"),
    f("send", Libc, "as `write`, `len` bytes"),
    f("sendto", Libc, "as `send`"),
    f("fgets", Libc, "write of `s`, all `size` bytes; report in the caller; NULL"),
    f("fread", Libc, "write of `size * n` bytes; report in the caller; 0"),
    f("fwrite", Libc, "read of `size * n` bytes; report in the caller; 0"),
    f("puts", Libc, "the string through its NUL (`Read of size` up to and including the first bad byte); report in the caller; `EOF`"),
    f("fputs", Libc, "as `puts`"),
    f("printf", Libc, "the format through its NUL, each `%s` string (to its NUL or precision), each `%n` target; report in the caller; -1"),
    f("vprintf", Libc, "as `printf`"),
    f("fprintf", Libc, "as `printf`"),
    f("vfprintf", Libc, "as `printf`"),
    f("dprintf", Libc, "as `printf`"),
    f("vdprintf", Libc, "as `printf`"),
    f("sprintf", Libc, "as `printf`, then write of the formatted length and its NUL at `s`"),
    f("vsprintf", Libc, "as `sprintf`"),
    f("snprintf", Libc, "as `printf`, then write of all `n` bytes of `s`"),
    f("vsnprintf", Libc, "as `snprintf`"),
    f("asprintf", Libc, "as `printf`, then write of the result pointer (8 bytes)"),
    f("vasprintf", Libc, "as `asprintf`"),
];

/// The table as the README shows it.
pub fn markdown() -> String {
    let mut s = String::from("| function | checked as | what is checked |\n|---|---|---|\n");
    for c in CHECKED {
        s.push_str(&format!(
            "| `{}` | {} | {} |\n",
            c.name,
            c.model.label(),
            c.checks
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(rel: &str) -> String {
        let path = format!("{}/{rel}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<&str> = CHECKED.iter().map(|c| c.name).collect();
        names.sort_unstable();
        let n = names.len();
        names.dedup();
        assert_eq!(names.len(), n, "a function is listed twice");
    }

    #[test]
    fn abi_list_names_exactly_the_checked_functions() {
        let abi = read("src/abi.txt");
        let mut section = Vec::new();
        let mut inside = false;
        for line in abi.lines() {
            if line.starts_with('#') {
                inside = line.starts_with("# Checked functions");
                continue;
            }
            let name = line.trim();
            if inside && !name.is_empty() {
                section.push(name);
            }
        }
        let table: Vec<&str> = CHECKED.iter().map(|c| c.name).collect();
        assert_eq!(
            section, table,
            "abi.txt's \"# Checked functions\" section must list CHECKED, in order"
        );
    }

    #[test]
    fn readme_shows_the_table() {
        let readme = read("../../README.md");
        let table = markdown();
        assert!(
            readme.contains(&table),
            "README.md must contain the checked-function table exactly as checked::markdown() renders it:\n{table}"
        );
    }
}
