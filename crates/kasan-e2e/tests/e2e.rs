//! End-to-end tests of `kasan cc` and the runtime.
//!
//! Every `tests/e2e/*.c` of the workspace is built with `target/release/kasan cc` in four
//! variants, `gcc-inline`, `gcc-outline`, `clang-inline`, `clang-outline` (`KASAN_CC=clang-19`;
//! skipped with a note when `clang-19` is not installed), except the `tags-*.c` files,
//! which are built `--mode=sw-tags` (clang-19) and run in two variants instead,
//! `clang-sw-tags-global` and `clang-sw-tags-percpu` (`KASAN_OPTIONS` starts with
//! `kasan.stack_ring=global` / `=percpu`; the test's own options follow, and win). In those
//! the `{row:}` and `{caret:}` placeholders use tag-mode geometry (16-byte granules, rows of
//! 256 bytes). Each job runs in a directory of its own
//! under `target/tmp/`, then run with a time limit; its standard error is checked against
//! expectations written as comments in the C file. Jobs run on two threads. Every failure
//! is printed (file, variant, what differed, the commands to reproduce it, the whole
//! stderr) before the test fails. Build the workspace first (`cargo build --release`;
//! `bash tests/run` does both).
//!
//! # The expectation language
//!
//! Directives are comment lines of their own, `// KEYWORD: value` (one space after the
//! colon is eaten; further ones are part of the value). Any other comment is plain text,
//! except that a `// CHECK...:` that is not a known directive is an error. The same
//! text, with examples, is in `tests/e2e/README.md`.
//!
//! | directive | meaning |
//! |---|---|
//! | `// RUN: -O0 -DX=1` | extra `kasan cc` arguments, after the defaults `-g -O1` (so `-O0` wins) |
//! | `// ENV: NAME=value` | environment of the program (repeatable); `{tmpdir}` is the job's directory. Inherited `KASAN_OPTIONS`, `KASAN_CC`, `KASAN_LIB_DIR`, `KASAN_INCLUDE_DIR` are always removed |
//! | `// ONLY: sel[,sel...] reason` | run only in the selected variants (repeatable: all must select). A selector is `gcc`, `clang`, `inline`, `outline`, `global`, `percpu` or a variant name like `clang-outline`; say why after it |
//! | `// EXIT: 0` / `// EXIT: 3` / `// EXIT: SIGSEGV` | how the program must end (default `0`) |
//! | `// TIMEOUT: 20` | time limit in seconds (default 60) |
//! | `// CHECK: text` | a line containing `text` comes next, after the previous match, in stderr |
//! | `// CHECK-NEXT: text` | the line right after the previous match contains `text` |
//! | `// CHECK-SAME: text` | the line of the previous match contains `text` too, anywhere in it (not ordered: for JSON fields) |
//! | `// CHECK-NOT: text` | no line anywhere contains `text` |
//! | `// REPORTS: N` | exactly N reports (lines starting `BUG: KASAN:`, or JSON report lines). Default: the number of `CHECK: BUG: KASAN:` (and `CHECK-NEXT: BUG: KASAN:`) lines |
//! | `// LOG: name` | the checks apply to the file `{tmpdir}/name` (set `kasan.log_path={tmpdir}/name` with `ENV:`) instead of stderr, and stderr must hold no report |
//! | `// FOR: n=1..64` ... `// END-FOR` | repeat the CHECK lines between, with `{n}` replaced by each number (inclusive range) before anything else |
//! | `// XFAIL: reason` | the runtime is known to fail this test: a failure is reported as XFAIL, a pass as XPASS, which fails the suite so that the fix is noticed and the XFAIL removed |
//!
//! `CHECK`, `CHECK-NEXT`, `CHECK-SAME`, `CHECK-NOT`, `EXIT`, `REPORTS` and `XFAIL` take
//! an optional variant selector list: `// CHECK-NEXT(clang): ...`, `// EXIT(inline):
//! SIGSEGV`, `// XFAIL(gcc,clang-outline): ...` apply only in those variants (for
//! `EXIT` and `REPORTS` the last applicable line wins).
//!
//! A file without any CHECK or CHECK-NEXT (and no `REPORTS:`) is a clean program: it must
//! produce no report and no text containing `KASAN` at all.
//!
//! Placeholders in check text, expanded per run:
//!
//! - `{name}`: a variable the program printed on **stdout** as a line `KASAN-TEST name=value`
//!   (flush stdout before the bug: `tests/e2e/e2e.h` has helpers). `0x...` values are
//!   addresses and print as reports print them, 16 zero-padded lower-case hex digits
//!   without `0x`; decimal values print in decimal; anything else verbatim.
//! - `{name+13}`, `{name-1}`, `{name+0x10}`: arithmetic on an address or number.
//! - `{hex:EXPR}`: `0x` and minimal hex digits, as the JSON reports write addresses.
//! - `{x2:EXPR}`: two lower-case hex digits, as tags print (`Pointer tag: [{x2:tag}]`).
//! - `{pid}`: the program's pid (the task id of its main thread; other threads print
//!   their own ids as variables), `{comm}`: its comm (the binary, named after the test
//!   file without `.c`, cut to 15 bytes), `{tmpdir}`.
//! - `{row:EXPR}`: the address of the memory-dump row holding EXPR (rounded down to 128),
//!   e.g. `CHECK: >{row:p+13}: `.
//! - `{caret:EXPR}`: as the whole pattern, the exact caret line under EXPR's granule,
//!   e.g. `CHECK-NEXT: {caret:p+13}`.
//! - `{*}`: any text; `{^}`, `{$}`: anchor at the start, end of the line.
//! - Braces that do not form one of these (JSON's `{"`) are literal text.
//!
//! Arguments select files: `cargo test --release -p kasan-e2e --test e2e -- uaf double`
//! runs the files whose name contains `uaf` or `double`. Environment: `KASAN_E2E_VARIANTS`
//! (`gcc-inline,clang-outline`), `KASAN_E2E_JOBS` (threads, default 2), `KASAN_E2E_KEEP=1`
//! (keep every job's directory; failed jobs' are always kept), `KASAN_E2E_VERBOSE=1`
//! (print the details of XFAIL jobs too), `KASAN_E2E_LIB_DIR=dir` (link against the
//! runtime in `dir`, e.g. another build of it).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use kasan_e2e::exec;
use kasan_e2e::spec::{Compiler, Spec, Variant};
use kasan_e2e::suite::{run_all, Config, Outcome, TestFile};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A runtime source file (the crates other than this one) modified after `artifact`.
fn newer_source(root: &Path, artifact: &Path) -> Option<PathBuf> {
    let built = std::fs::metadata(artifact)
        .and_then(|m| m.modified())
        .ok()?;
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root.join("crates"))
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("src")))
        .filter(|p| !p.starts_with(env!("CARGO_MANIFEST_DIR")))
        .collect();
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t > built)
            {
                return Some(path);
            }
        }
    }
    None
}

fn main() -> ExitCode {
    let started = Instant::now();
    let root = workspace_root().canonicalize().expect("workspace root");
    let kasan = root.join("target/release/kasan");
    if !kasan.exists() {
        eprintln!(
            "e2e: {} is missing: run `cargo build --release` first",
            kasan.display()
        );
        return ExitCode::FAILURE;
    }
    for lib in ["libkasan.a", "libkasan.so"] {
        if !root.join("target/release").join(lib).exists() {
            eprintln!("e2e: target/release/{lib} is missing: run `cargo build --release` first");
            return ExitCode::FAILURE;
        }
    }

    if let Some(newer) = newer_source(&root, &root.join("target/release/libkasan.a")) {
        println!(
            "e2e: note: {} changed after target/release/libkasan.a was built: run `cargo build --release` to test the current runtime",
            newer.display()
        );
    }

    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let mut variants: Vec<Variant> = match std::env::var("KASAN_E2E_VARIANTS") {
        Ok(list) if !list.trim().is_empty() => {
            let wanted: Vec<&str> = list.split(',').map(str::trim).collect();
            Variant::ALL
                .into_iter()
                .filter(|v| wanted.contains(&v.name()))
                .collect()
        }
        _ => Variant::ALL.to_vec(),
    };
    if !exec::available("clang-19") {
        println!("e2e: note: clang-19 is not installed: the clang-inline, clang-outline and clang-sw-tags-* variants are skipped");
        variants.retain(|v| v.compiler != Compiler::Clang);
    }

    // The test files.
    let dir = root.join("tests/e2e");
    let mut paths: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "c"))
            .collect(),
        Err(e) => {
            eprintln!("e2e: cannot read {}: {e}", dir.display());
            return ExitCode::FAILURE;
        }
    };
    paths.sort();
    let mut tests = Vec::new();
    let mut spec_errors = Vec::new();
    for path in paths {
        let name = path
            .file_name()
            .expect("a file")
            .to_string_lossy()
            .into_owned();
        if !filters.is_empty() && !filters.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        let source = match std::fs::read_to_string(&path) {
            Ok(s) => s,
            Err(e) => {
                spec_errors.push(format!("tests/e2e/{name}: cannot read: {e}"));
                continue;
            }
        };
        match Spec::parse(&source) {
            Ok(spec) => tests.push(TestFile { path, name, spec }),
            Err(e) => spec_errors.push(format!("tests/e2e/{name}: {e}")),
        }
    }
    if tests.is_empty() && spec_errors.is_empty() {
        eprintln!("e2e: no test files selected in {}", dir.display());
        return ExitCode::FAILURE;
    }

    let mut jobs = Vec::new();
    let mut not_run: BTreeMap<&str, usize> = BTreeMap::new();
    for t in &tests {
        for &v in &variants {
            if !v.runs_file(&t.name) {
                // tags-*.c belong to the sw-tags variants, the rest to the generic ones.
                continue;
            }
            if t.spec.runs_in(v) {
                jobs.push((t, v));
            } else {
                *not_run.entry(v.name()).or_default() += 1;
            }
        }
    }

    let threads: usize = std::env::var("KASAN_E2E_JOBS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get().min(2)));
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("e2e-{}", std::process::id()));
    let cfg = Config {
        kasan,
        work: work.clone(),
        keep: std::env::var_os("KASAN_E2E_KEEP").is_some_and(|v| v != "0"),
        lib_dir: std::env::var_os("KASAN_E2E_LIB_DIR")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from),
    };
    if let Some(lib) = &cfg.lib_dir {
        println!(
            "e2e: note: linking against the runtime in {} (KASAN_E2E_LIB_DIR)",
            lib.display()
        );
    }
    println!(
        "e2e: {} files x [{}] = {} jobs on {threads} threads",
        tests.len(),
        variants
            .iter()
            .map(|v| v.name())
            .collect::<Vec<_>>()
            .join(" "),
        jobs.len()
    );
    let results = run_all(&cfg, &jobs, threads, |r, n, total| {
        println!(
            "[{n:>3}/{total}] {:<5} {} [{}] ({:.1}s)",
            r.outcome.label(),
            r.file,
            r.variant,
            r.elapsed.as_secs_f64()
        );
    });
    let _ = std::fs::remove_dir(&work); // only if empty: failed jobs' directories stay

    // Details: failures and unexpected passes always; expected failures briefly.
    let verbose = std::env::var_os("KASAN_E2E_VERBOSE").is_some_and(|v| v != "0");
    let mut bad = 0;
    for r in &results {
        match &r.outcome {
            Outcome::Fail(_) | Outcome::XPass(_) => {
                bad += 1;
                println!("\n{}", r.details());
                println!("  (directory kept: {})", r.dir.display());
            }
            Outcome::XFail(reason, problems) if verbose => {
                println!("\n{}", r.details());
                println!("  (XFAIL: {reason}; {} problem(s))", problems.len());
            }
            _ => {}
        }
    }
    let xfails: Vec<_> = results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::XFail(..)))
        .collect();
    if !xfails.is_empty() {
        println!("\nexpected failures (runtime bugs, see the XFAIL lines):");
        for r in xfails {
            if let Outcome::XFail(reason, problems) = &r.outcome {
                let first = problems
                    .first()
                    .map(String::as_str)
                    .unwrap_or("")
                    .replace('\n', "\n      ");
                println!(
                    "  XFAIL {} [{}]: {reason}\n    first problem: {first}",
                    r.file, r.variant
                );
            }
        }
    }
    for e in &spec_errors {
        println!("\nSPEC ERROR {e}");
    }

    // Summary per variant.
    println!("\nsummary:");
    for v in &variants {
        let count = |label: &str| {
            results
                .iter()
                .filter(|r| r.variant == *v && r.outcome.label() == label)
                .count()
        };
        println!(
            "  {:<20} {:>3} pass  {:>3} xfail  {:>3} FAIL  {:>3} XPASS  {:>3} not run (ONLY)",
            v.name(),
            count("PASS"),
            count("XFAIL"),
            count("FAIL"),
            count("XPASS"),
            not_run.get(v.name()).copied().unwrap_or(0)
        );
    }
    println!("e2e: {:.0}s", started.elapsed().as_secs_f64());
    if bad > 0 || !spec_errors.is_empty() {
        println!(
            "e2e: {bad} job(s) failed, {} file(s) with bad directives",
            spec_errors.len()
        );
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
