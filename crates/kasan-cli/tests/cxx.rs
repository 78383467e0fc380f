//! C++ through `kasan cc`: a plain `kasan cc x.cpp` (no `KASAN_CC`) picks `g++`, so the
//! link gets libstdc++; exceptions thrown and caught through instrumented frames work;
//! an out-of-bounds read of a `new[]` array is reported exactly and a clean twin run is
//! silent. `KASAN_CC=clang++-19` is checked the same way when installed.

use std::path::PathBuf;
use std::process::{Command, Output};

const PROGRAM: &str = r#"#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

__attribute__((noinline)) int thrower(int n)
{
	std::vector<std::string> names(3, "name");
	if (n > 2)
		throw std::runtime_error("too big: " + std::to_string(n) + names[2]);
	return n;
}

__attribute__((noinline)) int read_at(const int *p, int i)
{
	return ((const volatile int *)p)[i];
}

int main(int argc, char **argv)
{
	int i = std::atoi(argv[1]);
	int *p = new int[4]();

	try {
		thrower(i + 3);
	} catch (const std::exception &e) {
		std::printf("caught %s\n", e.what());
	}
	std::printf("%d\n", read_at(p, i));
	delete[] p;
	std::fprintf(stderr, "after\n");
	return 0;
}
"#;

/// The line of the read in `read_at`, and of the `new int[4]` in `main`.
const READ_LINE: u32 = 17;
const NEW_LINE: u32 = 23;

fn build(name: &str, compiler: Option<&str>) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kasan-cxx-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("x.cpp"), PROGRAM).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kasan"));
    cmd.args(["cc", "-g", "-O1", "x.cpp", "-o", "x"])
        .current_dir(&d)
        .env_remove("KASAN_LIB_DIR")
        .env_remove("KASAN_INCLUDE_DIR");
    match compiler {
        Some(c) => cmd.env("KASAN_CC", c),
        None => cmd.env_remove("KASAN_CC"),
    };
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "kasan cc ({compiler:?}) x.cpp: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    d.join("x")
}

fn run(bin: &PathBuf, i: &str) -> Output {
    Command::new(bin)
        .arg(i)
        .env_remove("KASAN_OPTIONS")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn check(bin: &PathBuf) {
    // Clean twin: in bounds, the exception caught, nothing on stderr but our line.
    let out = run(bin, "3");
    assert_eq!(
        (out.status.code(), text(&out.stdout), text(&out.stderr)),
        (
            Some(0),
            "caught too big: 6name\n0\n".to_owned(),
            "after\n".to_owned()
        )
    );

    // One int past the 4-int array.
    let out = run(bin, "4");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(text(&out.stdout), "caught too big: 7name\n0\n", "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.starts_with("BUG: KASAN:"))
            .count(),
        1,
        "{stderr}"
    );
    let at = lines
        .iter()
        .position(|l| l.starts_with("BUG: KASAN:"))
        .unwrap();
    assert!(
        lines[at].starts_with("BUG: KASAN: slab-out-of-bounds in read_at+0x"),
        "{stderr}"
    );
    assert!(
        lines[at + 1].starts_with("Read of size 4 at addr "),
        "{stderr}"
    );
    let trace = lines.iter().position(|l| *l == " <TASK>").unwrap();
    assert!(
        lines[trace + 1].starts_with(" read_at+0x")
            && lines[trace + 1].ends_with(&format!(" x.cpp:{READ_LINE}")),
        "{stderr}"
    );
    assert!(lines[trace + 2].starts_with(" main+0x"), "{stderr}");
    let alloc = lines
        .iter()
        .position(|l| l.starts_with("Allocated by task "))
        .unwrap();
    // The allocator entry frame the program called (Linux shows its kmalloc-style
    // entry the same way), then the program's frames.
    assert!(
        lines[alloc + 1].starts_with(" _Znwm+0x") || lines[alloc + 1].starts_with(" operator new"),
        "{stderr}"
    );
    assert!(
        lines[alloc + 2].starts_with(" main+0x")
            && lines[alloc + 2].ends_with(&format!(" x.cpp:{NEW_LINE}")),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "The buggy address is located 0 bytes to the right of\n allocated 16-byte region ["
        ),
        "{stderr}"
    );
    assert_eq!(*lines.last().unwrap(), "after", "{stderr}");
}

#[test]
fn plain_kasan_cc_builds_cxx_with_gxx() {
    check(&build("default", None));
}

#[test]
fn clangxx_builds_cxx() {
    let have = Command::new("clang++-19")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        println!("clang++-19 is not installed: skipped");
        return;
    }
    check(&build("clang", Some("clang++-19")));
}
