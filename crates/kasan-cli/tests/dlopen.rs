//! An instrumented shared library loaded with `dlopen` by a program `kasan cc` linked:
//! it must load (the program exports the runtime's whole ABI, not only what the libraries
//! named at link time use), its heap and global bugs must be reported in its own
//! functions, and a clean run must print nothing.
//!
//! Built with gcc and, when installed, clang-19, both with `kasan cc -g -O1`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::*;

const PROGRAM: &str = r#"#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	void *h = dlopen(argv[1], RTLD_NOW);
	int (*heap)(int, int);
	int (*global)(int);
	int i = atoi(argv[3]);

	if (!h) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 3;
	}
	heap = (int (*)(int, int))dlsym(h, "lib_heap_read");
	global = (int (*)(int))dlsym(h, "lib_global_read");
	if (strcmp(argv[2], "heap") == 0)
		printf("%d\n", heap(13, i));
	else
		printf("%d\n", global(i));
	fprintf(stderr, "after\n");
	return 0;
}
"#;

/// A fresh directory for one compiler's build.
fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kasan-dlopen-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `kasan cc` with `KASAN_CC=compiler`, in `dir`; panics with its output on failure.
fn kasan_cc(compiler: &str, dir: &Path, args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_kasan"))
        .arg("cc")
        .args(args)
        .current_dir(dir)
        .env("KASAN_CC", compiler)
        .env_remove("KASAN_LIB_DIR")
        .env_remove("KASAN_INCLUDE_DIR")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "KASAN_CC={compiler} kasan cc {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(dir.join("main"))
        .arg(dir.join("libx.so"))
        .args(args)
        .current_dir(dir)
        .env_remove("KASAN_OPTIONS")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn have(compiler: &str) -> bool {
    Command::new(compiler)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Checks one bug report: exactly one, its title, its access line, and the library
/// function (with its file and line) at the top of the call trace, called from `main`.
fn assert_one_report(out: &Output, title: &str, access: &str, top: &str, line: u32) {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    let bugs: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].starts_with("BUG: KASAN:"))
        .collect();
    assert_eq!(bugs.len(), 1, "{stderr}");
    let at = bugs[0];
    assert!(
        lines[at].starts_with(&format!("{title} in {top}+")),
        "{stderr}"
    );
    assert!(lines[at + 1].starts_with(access), "{stderr}");
    let trace = lines.iter().position(|l| *l == " <TASK>").unwrap();
    assert!(
        lines[trace + 1].starts_with(&format!(" {top}+"))
            && lines[trace + 1].ends_with(&format!(" lib.c:{line}")),
        "{stderr}"
    );
    assert!(lines[trace + 2].starts_with(" main+"), "{stderr}");
    assert_eq!(*lines.last().unwrap(), "after", "{stderr}");
}

/// `symbol_size`: `lib_global`'s size as the report prints it, Linux's kallsyms size
/// (up to the next symbol): clang's ELF symbol includes the redzone it appends, and
/// for gcc the runtime extends the symbol over the redzone it finds in the shadow.
fn check(compiler: &str, symbol_size: &str) {
    let d = dir(compiler);
    std::fs::write(d.join("lib.c"), LIBRARY).unwrap();
    std::fs::write(d.join("main.c"), PROGRAM).unwrap();
    kasan_cc(
        compiler,
        &d,
        &["-g", "-O1", "-fPIC", "-shared", "lib.c", "-o", "libx.so"],
    );
    kasan_cc(compiler, &d, &["-g", "-O1", "main.c", "-o", "main", "-ldl"]);

    // Clean twins: in-bounds reads, nothing printed but the program's own line.
    let out = run(&d, &["heap", "12"]);
    assert_eq!(
        (out.status.code(), text(&out.stdout), text(&out.stderr)),
        (Some(0), "7\n".to_owned(), "after\n".to_owned())
    );
    let out = run(&d, &["global", "3"]);
    assert_eq!(
        (out.status.code(), text(&out.stdout), text(&out.stderr)),
        (Some(0), "0\n".to_owned(), "after\n".to_owned())
    );

    // One byte past a 13-byte malloc made in the library.
    let out = run(&d, &["heap", "13"]);
    assert_one_report(
        &out,
        "BUG: KASAN: slab-out-of-bounds",
        "Read of size 1 at addr ",
        "lib_heap_read",
        HEAP_READ_LINE,
    );
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("lib.c:{MALLOC_LINE}\n")),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "The buggy address is located 0 bytes to the right of\n allocated 13-byte region ["
        ),
        "{stderr}"
    );

    // The int past the library's global array: its globals were registered.
    let out = run(&d, &["global", "4"]);
    assert_one_report(
        &out,
        "BUG: KASAN: global-out-of-bounds",
        "Read of size 4 at addr ",
        "lib_global_read",
        GLOBAL_READ_LINE,
    );
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "The buggy address belongs to the variable:\n lib_global+0x10/{symbol_size}\n"
        )),
        "{stderr}"
    );
}

#[test]
fn dlopened_library_with_gcc() {
    check("gcc", "0x40");
}

#[test]
fn dlopened_library_with_clang() {
    if !have("clang-19") {
        println!("clang-19 is not installed: skipped");
        return;
    }
    check("clang-19", "0x20");
}
