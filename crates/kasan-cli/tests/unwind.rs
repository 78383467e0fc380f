//! Exceptions thrown by code the compiler did not instrument (a `no_sanitize_address`
//! function, libstdc++'s own `std::vector::at`) leave instrumented frames without their
//! epilogues: the runtime's `_Unwind_RaiseException` (dynamic links) or its
//! `--wrap` (static links) clears their redzones, so a later, deeper call reusing that
//! stack is silent (compiler-rt's throw_call_test.cpp). The bug twin writes one element
//! past a stack array after the same throws: exactly one stack-out-of-bounds report.

use std::path::PathBuf;
use std::process::Command;

const PROGRAM: &str = r#"#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <vector>

static void touch(void *p) { __asm__ volatile("" : : "r"(p) : "memory"); }

__attribute__((noinline, no_sanitize_address)) void really_throw(int n)
{
	if (n >= 0)
		throw n;
}

__attribute__((noinline)) void throws(int n)
{
	int a[8], b[8], c[8];
	touch(a); touch(b); touch(c);
	really_throw(n);
}

__attribute__((noinline)) int at_throws(const std::vector<int> &v, int i)
{
	int d[16];
	touch(d);
	return v.at(i) + d[0];
}

__attribute__((noinline)) void check_stack(int n)
{
	int ar[100];
	touch(ar);
	for (int i = 0; i < n; i++)
		((volatile int *)ar)[i] = i;
}

int main(int argc, char **argv)
{
	int n = std::atoi(argv[1]);
	std::vector<int> v(3);
	int caught = 0;

	for (int round = 0; round < 3; round++) {
		try { throws(round); } catch (int) { caught++; }
		try { at_throws(v, 10); } catch (const std::out_of_range &) { caught++; }
		check_stack(100);
	}
	std::printf("caught %d\n", caught);
	check_stack(n);
	std::fprintf(stderr, "after\n");
	return 0;
}
"#;

fn build(name: &str, compiler: Option<&str>, extra: &[&str]) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kasan-unwind-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("x.cpp"), PROGRAM).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kasan"));
    cmd.args(["cc", "-g", "-O1"])
        .args(extra)
        .args(["x.cpp", "-o", "x"])
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
        "kasan cc ({compiler:?} {extra:?}) x.cpp: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    d.join("x")
}

fn check(bin: &PathBuf) {
    // Clean twin: six throws over instrumented frames, then deep reuse of the stack.
    let out = Command::new(bin)
        .arg("100")
        .env_remove("KASAN_OPTIONS")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).as_ref(),
            stderr.as_str()
        ),
        (Some(0), "caught 6\n", "after\n"),
        "{}",
        bin.display()
    );
    // The bug: ar[100], one int past the array, after the same throws.
    let out = Command::new(bin)
        .arg("101")
        .env_remove("KASAN_OPTIONS")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let bugs: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("BUG: KASAN:"))
        .collect();
    assert_eq!(bugs.len(), 1, "{stderr}");
    assert!(
        bugs[0].starts_with("BUG: KASAN: stack-out-of-bounds in _Z11check_stacki+0x")
            || bugs[0].starts_with("BUG: KASAN: stack-out-of-bounds in check_stack"),
        "{stderr}"
    );
    assert!(stderr.contains("\nWrite of size 4 at addr "), "{stderr}");
    assert!(stderr.ends_with("after\n"), "{stderr}");
}

#[test]
fn throws_from_uninstrumented_code_clear_the_frames_they_leave() {
    check(&build("dyn", None, &[]));
}

#[test]
fn static_links_wrap_the_unwinder() {
    check(&build("static", None, &["-static"]));
}

#[test]
fn clangxx_too() {
    let have = Command::new("clang++-19")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        println!("clang++-19 is not installed: skipped");
        return;
    }
    check(&build("clang", Some("clang++-19"), &[]));
    check(&build("clang-static", Some("clang++-19"), &["-static"]));
}
