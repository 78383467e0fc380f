//! `kasan cc --print-flags` prints shell assignments that `eval "$(kasan cc
//! --print-flags)"` accepts as they are; a program built by the compiler itself with
//! the two variables (no `kasan cc` in the build) is instrumented and linked with the
//! runtime: its heap overflow is reported. Checked with the default include directory
//! and with one whose name holds a space and a quote.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const PROGRAM: &str = r#"#include <stdlib.h>
#include <kasan.h>

__attribute__((noinline)) void write_at(char *p, long i)
{
	((volatile char *)p)[i] = 1;
}

int main(int argc, char **argv)
{
	char *p = kmalloc(13, 0);

	write_at(p, 12 + argc);
	kfree(p);
	return 0;
}
"#;

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kasan-print-flags-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("x.c"), PROGRAM).unwrap();
    d
}

/// Runs `script` in bash in `d` after `eval "$(kasan cc --print-flags)"` (with
/// `KASAN_INCLUDE_DIR` set to `include`, if given).
fn bash(d: &Path, include: Option<&Path>, script: &str) -> Output {
    let kasan = env!("CARGO_BIN_EXE_kasan");
    let full = format!("set -eu\neval \"$('{kasan}' cc --print-flags)\"\n{script}");
    let mut cmd = Command::new("bash");
    cmd.args(["-c", &full])
        .current_dir(d)
        .env_remove("KASAN_LIB_DIR")
        .env_remove("KASAN_CC")
        .env_remove("KASAN_OPTIONS");
    match include {
        Some(i) => cmd.env("KASAN_INCLUDE_DIR", i),
        None => cmd.env_remove("KASAN_INCLUDE_DIR"),
    };
    cmd.output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn assert_reported(d: &Path) {
    let out = Command::new(d.join("x")).output().unwrap();
    let err = text(&out.stderr);
    assert!(
        err.contains("BUG: KASAN: slab-out-of-bounds in write_at+0x"),
        "no report:\n{err}"
    );
    assert!(err.contains("Write of size 1 at addr "), "{err}");
    assert_eq!(err.matches("BUG: KASAN:").count(), 1, "{err}");
}

#[test]
fn eval_sets_two_variables_a_plain_build_uses() {
    let d = dir("plain");
    // Unquoted expansion is enough when no flag holds a space.
    let out = bash(
        &d,
        None,
        "test -n \"$KASAN_CFLAGS\" && test -n \"$KASAN_LDFLAGS\"\n\
         gcc -g -O1 -c x.c -o x.o $KASAN_CFLAGS\n\
         gcc x.o -o x $KASAN_LDFLAGS\n",
    );
    assert!(
        out.status.success(),
        "stdout:\n{}\nstderr:\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_reported(&d);
}

#[test]
fn a_path_with_a_space_and_a_quote_survives_eval() {
    let d = dir("quoted");
    let include = d.join("my include's dir");
    std::fs::create_dir_all(&include).unwrap();
    let header = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../include/kasan.h");
    std::fs::copy(header, include.join("kasan.h")).unwrap();
    // The values are command-line fragments for a shell to read again, as make's
    // recipes and `eval` do.
    let out = bash(
        &d,
        Some(&include),
        "case \"$KASAN_CFLAGS\" in *\"my include\"*) ;; *) exit 3;; esac\n\
         eval \"gcc -g -O1 x.c -o x $KASAN_CFLAGS $KASAN_LDFLAGS\"\n",
    );
    assert!(
        out.status.success(),
        "stdout:\n{}\nstderr:\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_reported(&d);
}
