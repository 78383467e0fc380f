//! The runtime's exported ABI: every symbol listed in `crates/kasan-rt/src/abi.txt` (one
//! name per line, `#` starts a comment) must be defined in `target/release/libkasan.so`
//! (`nm -D --defined-only`). Without that file there is nothing to check.

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
    let want = listed(&text);
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
