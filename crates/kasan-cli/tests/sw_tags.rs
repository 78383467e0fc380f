//! `kasan cc --mode=sw-tags` end to end: the mode is chosen at start-up from the link
//! (`__kasan_sw_tags` defined or not) for PIE, non-PIE and static programs; a tag-mode
//! object linked into a generic program prints one `kasan:` line and runs unchecked;
//! the error cases of the driver (no clang-19, gcc, `--inline`).
//!
//! Needs clang-19; without it the tests print a note and pass (as the e2e harness
//! skips its clang variants).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A program that reports its mode (the tag of a heap pointer) and then reads one
/// byte past a 40-byte object's granule-rounded end (byte 48: a bug in both modes).
const PROGRAM: &str = r#"#include <stdio.h>
#include <stdlib.h>
#include <kasan.h>

int lib_read(const char *p, int i);

int main(int argc, char **argv)
{
	char *p = malloc(40);

	printf("tag=%x reset_same=%d\n", kasan_get_tag(p), kasan_reset_tag(p) == (void *)p);
	fflush(stdout);
	if (argc > 1)
		printf("%d\n", lib_read(p, 48));
	printf("%d\n", lib_read(p, 39));
	free(p);
	return 0;
}
"#;

/// The reads, in a file of their own so it can be built in the other mode.
const LIB: &str = r#"__attribute__((noinline)) int lib_read(const char *p, int i)
{
	return ((const volatile char *)p)[i];
}
"#;

fn have_clang() -> bool {
    Command::new("clang-19").arg("--version").output().is_ok()
}

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kasan-swtags-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("prog.c"), PROGRAM).unwrap();
    std::fs::write(d.join("lib.c"), LIB).unwrap();
    d
}

fn kasan_cc(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kasan"))
        .arg("cc")
        .args(args)
        .current_dir(dir)
        .env_remove("KASAN_CC")
        .env_remove("KASAN_LIB_DIR")
        .env_remove("KASAN_INCLUDE_DIR")
        .output()
        .unwrap()
}

fn built(dir: &Path, args: &[&str]) {
    let out = kasan_cc(dir, args);
    assert!(
        out.status.success(),
        "kasan cc {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn run(dir: &Path, prog: &str, args: &[&str]) -> (String, String, Option<i32>) {
    let out = Command::new(dir.join(prog))
        .args(args)
        .env_remove("KASAN_OPTIONS")
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

#[test]
fn the_link_selects_the_mode_for_pie_non_pie_and_static() {
    if !have_clang() {
        println!("sw_tags: clang-19 not installed: nothing to check");
        return;
    }
    let d = dir("links");
    for (name, extra) in [("pie", "-pie"), ("nopie", "-no-pie"), ("static", "-static")] {
        built(
            &d,
            &[
                "--mode=sw-tags",
                "-g",
                "-O1",
                extra,
                "prog.c",
                "lib.c",
                "-o",
                name,
            ],
        );
        let (stdout, stderr, code) = run(&d, name, &[]);
        assert_eq!(code, Some(0), "{name}: {stderr}");
        let tag = stdout
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("tag="))
            .and_then(|l| l.split(' ').next())
            .and_then(|t| u8::from_str_radix(t, 16).ok())
            .unwrap_or_else(|| panic!("{name}: no tag line in {stdout}"));
        assert!(
            tag <= 0xd,
            "{name}: a heap pointer carries a random tag, got {tag:#x}"
        );
        assert!(stdout.contains("reset_same=0"), "{name}: {stdout}");
        assert!(!stderr.contains("KASAN"), "{name}: {stderr}");
        // The bug twin: byte 48 is past the object's last granule.
        let (_, stderr, code) = run(&d, name, &["bug"]);
        assert_eq!(code, Some(0), "{name}: {stderr}");
        assert!(
            stderr.contains("BUG: KASAN: slab-out-of-bounds in lib_read+0x"),
            "{name}: {stderr}"
        );
        assert!(stderr.contains("\nPointer tag: ["), "{name}: {stderr}");
        assert_eq!(stderr.matches("BUG: KASAN:").count(), 1, "{name}: {stderr}");
    }
    // The same program linked generic: untagged pointers, 0xff, generic's report.
    built(&d, &["-g", "-O1", "prog.c", "lib.c", "-o", "generic"]);
    let (stdout, stderr, _) = run(&d, "generic", &["bug"]);
    assert!(stdout.starts_with("tag=ff reset_same=1\n"), "{stdout}");
    assert!(!stderr.contains("Pointer tag"), "{stderr}");
    assert!(
        stderr.contains("BUG: KASAN: slab-out-of-bounds in lib_read+0x"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn tag_mode_code_in_a_generic_program_warns_once_and_passes() {
    if !have_clang() {
        println!("sw_tags: clang-19 not installed: nothing to check");
        return;
    }
    let d = dir("mixed");
    built(
        &d,
        &["--mode=sw-tags", "-g", "-O1", "-c", "lib.c", "-o", "lib.o"],
    );
    built(&d, &["-g", "-O1", "prog.c", "lib.o", "-o", "mixed"]);
    let (stdout, stderr, code) = run(&d, "mixed", &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.starts_with("tag=ff reset_same=1\n"), "{stdout}");
    // Two __hwasan_* calls, one line.
    assert_eq!(
        stderr,
        "kasan: code built with --mode=sw-tags runs in a generic-mode program: its accesses are not checked (build the program with kasan cc --mode=sw-tags)\n"
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn driver_errors() {
    let d = dir("errors");
    let out = kasan_cc(&d, &["--mode=sw-tags", "--inline", "prog.c"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .starts_with("kasan cc: --inline is not available with --mode=sw-tags"));
    let out = Command::new(env!("CARGO_BIN_EXE_kasan"))
        .args(["cc", "--mode=sw-tags", "prog.c"])
        .current_dir(&d)
        .env("KASAN_CC", "gcc")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .starts_with("kasan cc: --mode=sw-tags needs clang-19; KASAN_CC='gcc' is not clang"));
    let out = Command::new(env!("CARGO_BIN_EXE_kasan"))
        .args(["cc", "--mode=sw-tags", "prog.c"])
        .current_dir(&d)
        .env_remove("KASAN_CC")
        .env("PATH", d.join("no-such-dir"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "kasan cc: --mode=sw-tags needs clang-19, which was not found in PATH\n"
    );
    if !have_clang() {
        return;
    }
    let out = kasan_cc(&d, &["--mode=sw-tags", "--print-flags"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("-fsanitize=kernel-hwaddress"), "{text}");
    assert!(
        text.contains("-Wl,--defsym=__kasan_sw_tags=__hwasan_load1_noabort"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&d);
}
