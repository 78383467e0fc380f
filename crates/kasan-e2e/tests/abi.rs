//! The runtime's exported ABI: every symbol listed in `crates/kasan-rt/src/abi.txt` (one
//! name per line, `#` starts a comment) must be defined in `target/release/libkasan.so`
//! (`nm -D --defined-only`), except those of a section whose heading says "archive only",
//! which must be defined in `target/release/libkasan.a` instead. Without abi.txt there is
//! nothing to check.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The names listed in an abi.txt.
fn listed(text: &str) -> Vec<&str> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .collect()
}

/// The defined dynamic symbols, from `nm -D --defined-only` output.
fn exported(nm: &str) -> BTreeSet<&str> {
    nm.lines()
        .filter_map(|l| l.split_whitespace().last())
        .map(|s| s.split('@').next().unwrap_or(s))
        .collect()
}

#[test]
fn parses_lists() {
    assert_eq!(
        listed("# c\n\n__asan_load1_noabort\n  kmalloc  # the API\n"),
        ["__asan_load1_noabort", "kmalloc"]
    );
    let nm = "0000000000012340 T __asan_load1_noabort\n0000000000012350 T memcpy@@GLIBC_2.14\n";
    assert!(exported(nm).contains("memcpy") && exported(nm).contains("__asan_load1_noabort"));
}

/// abi.txt split into its "archive only" sections and the rest.
fn split_archive_only(text: &str) -> (String, String) {
    let (mut only, mut rest) = (String::new(), String::new());
    let mut in_only = false;
    let mut heading = false;
    for line in text.lines() {
        if line.starts_with('#') {
            // A heading may continue on the next comment lines.
            if !heading {
                in_only = false;
            }
            in_only |= line.contains("archive only");
            heading = true;
            continue;
        }
        heading = false;
        let out = if in_only { &mut only } else { &mut rest };
        out.push_str(line);
        out.push('\n');
    }
    (only, rest)
}

#[test]
fn splits_archive_only_sections() {
    let (only, rest) = split_archive_only("# a:\nx\n# b (archive only,\n# more):\ny\n# c:\nz\n");
    assert_eq!((only.as_str(), rest.as_str()), ("y\n", "x\nz\n"));
}

#[test]
fn every_listed_symbol_is_exported() {
    let root = workspace_root();
    let abi = root.join("crates/kasan-rt/src/abi.txt");
    let Ok(text) = std::fs::read_to_string(&abi) else {
        println!("abi: {} does not exist: nothing to check", abi.display());
        return;
    };
    let so = root.join("target/release/libkasan.so");
    assert!(
        so.exists(),
        "{} is missing: run `cargo build --release` first",
        so.display()
    );
    let out = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(&so)
        .output()
        .expect("nm runs (binutils installed?)");
    assert!(
        out.status.success(),
        "nm failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let nm = String::from_utf8_lossy(&out.stdout);
    let have = exported(&nm);
    let (archive_only, rest) = split_archive_only(&text);
    let want = listed(&rest);
    if !archive_only.is_empty() {
        let a = root.join("target/release/libkasan.a");
        let out = Command::new("nm")
            .args(["--defined-only"])
            .arg(&a)
            .output()
            .expect("nm runs");
        let nm_a = String::from_utf8_lossy(&out.stdout);
        let in_archive = exported(&nm_a);
        for name in listed(&archive_only) {
            assert!(
                in_archive.contains(name),
                "{name} is not defined in {}",
                a.display()
            );
        }
    }
    let missing: Vec<&str> = want.iter().copied().filter(|n| !have.contains(n)).collect();
    assert!(
        missing.is_empty(),
        "{} of the {} symbols in crates/kasan-rt/src/abi.txt are not exported by {}:\n  {}",
        missing.len(),
        want.len(),
        so.display(),
        missing.join("\n  ")
    );
    println!("abi: all {} listed symbols exported", want.len());
}
