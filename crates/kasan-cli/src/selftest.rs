//! `kasan selftest`: Linux's KASAN KUnit suite, ported (`tests/kunit/`), built and run
//! in generic and sw-tags mode.
//!
//! The suite's sources are embedded in the binary. They are written to a fresh
//! temporary directory and built with this very `kasan` (`kasan cc`, which finds its
//! runtime next to the binary or in `KASAN_LIB_DIR`): generic mode with clang-19 when
//! it is installed (gcc misses `kasan_global_oob_left`), else gcc; sw-tags mode with
//! clang-19. The Rust case (`kasan_test_rust.rs`) is built with the nightly toolchain
//! (`rustc +nightly`, as a staticlib instrumented by rustc's address sanitizer); without
//! a nightly, `rust_uaf` skips and says why.
//!
//! Every case runs in a process of its own (`kasan_test <case>`, with a time limit),
//! several at a time; the case program itself adds `kasan_multi_shot` and the options
//! the case needs (`tests/kunit/kunit.h`), and the inherited `KASAN_OPTIONS` is removed
//! so that the results do not depend on the caller's settings. The output is a table
//! (case, mode, result, the bug types the case's expectations saw, the reason for a
//! skip or failure), one summary line per mode, and last `N passed, N failed, N
//! skipped`. Results: `pass`, `FAIL`, `skip` (skipped for a reason of its own, given)
//! and `n/a` (Linux's table does not run the case in this mode; counted as skipped).
//! The exit status is 1 when anything failed (a case, or a build), else 0.

use std::fs;
use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const KASAN_TEST_C: &str = include_str!("../../../tests/kunit/kasan_test.c");
const KUNIT_H: &str = include_str!("../../../tests/kunit/kunit.h");
const KASAN_TEST_RUST_RS: &str = include_str!("../../../tests/kunit/kasan_test_rust.rs");

/// How long one case may run.
const CASE_TIMEOUT: Duration = Duration::from_secs(60);

/// The exit statuses of a case process (`tests/kunit/kunit.h`).
const EXIT_OK: i32 = 0;
const EXIT_FAIL: i32 = 1;
const EXIT_SKIP_MODE: i32 = 77;
const EXIT_SKIP_OTHER: i32 = 78;

/// Which modes to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ModeChoice {
    /// Generic mode only.
    Generic,
    /// Software tag-based mode only.
    SwTags,
    /// Both, generic first.
    Both,
}

/// One of the two modes the suite is built in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Generic,
    SwTags,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Generic => "generic",
            Mode::SwTags => "sw-tags",
        }
    }
}

/// A case's outcome in one mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Pass,
    Fail,
    Skip,
    NotForMode,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "FAIL",
            Outcome::Skip => "skip",
            Outcome::NotForMode => "n/a",
        }
    }
}

/// One row of the table.
#[derive(Debug, Clone)]
struct Row {
    case: String,
    mode: Mode,
    outcome: Outcome,
    /// The bug types the expectations saw, summarised (`slab-out-of-bounds x3`).
    bugs: String,
    /// Why it skipped or failed.
    reason: String,
}

/// The state of the Rust case's build.
#[derive(Debug)]
enum Rust {
    /// The staticlib to link.
    Built(PathBuf),
    /// No nightly toolchain: `rust_uaf` skips with this reason.
    Missing(String),
    /// The nightly toolchain failed to build it: `rust_uaf` fails with this reason.
    Failed(String),
}

/// Runs `kasan selftest`; returns the exit code.
pub fn main(choice: ModeChoice, keep: bool) -> i32 {
    match run(choice, keep) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("kasan selftest: {message}");
            2
        }
    }
}

fn run(choice: ModeChoice, keep: bool) -> Result<i32, String> {
    let kasan =
        std::env::current_exe().map_err(|e| format!("cannot find the kasan executable: {e}"))?;
    let dir = make_temp_dir()?;
    for (name, text) in [
        ("kasan_test.c", KASAN_TEST_C),
        ("kunit.h", KUNIT_H),
        ("kasan_test_rust.rs", KASAN_TEST_RUST_RS),
    ] {
        fs::write(dir.join(name), text)
            .map_err(|e| format!("cannot write {}: {e}", dir.join(name).display()))?;
    }

    let modes: &[Mode] = match choice {
        ModeChoice::Generic => &[Mode::Generic],
        ModeChoice::SwTags => &[Mode::SwTags],
        ModeChoice::Both => &[Mode::Generic, Mode::SwTags],
    };
    let rust = build_rust(&dir);
    if let Rust::Failed(why) = &rust {
        eprintln!("kasan selftest: {why}");
    }

    let mut rows = Vec::new();
    let mut summaries = Vec::new();
    for &mode in modes {
        let compiler = match mode {
            Mode::Generic if in_path("clang-19") => "clang-19",
            Mode::Generic => "gcc",
            Mode::SwTags => "clang-19",
        };
        let started = Instant::now();
        let mode_rows = match build_suite(&kasan, &dir, mode, compiler, &rust) {
            Ok(binary) => run_cases(&binary, &dir, mode, &rust)?,
            Err(why) => {
                eprintln!("kasan selftest: {why}");
                vec![Row {
                    case: "(build)".into(),
                    mode,
                    outcome: Outcome::Fail,
                    bugs: String::new(),
                    reason: format!("the {} build failed (output above)", mode.name()),
                }]
            }
        };
        summaries.push(format!(
            "{} ({compiler}): {}, {:.1} s",
            mode.name(),
            counts_line(&mode_rows, true),
            started.elapsed().as_secs_f64()
        ));
        rows.extend(mode_rows);
    }

    print_table(&rows);
    println!();
    for line in &summaries {
        println!("{line}");
    }
    let failed = rows.iter().any(|r| r.outcome == Outcome::Fail);
    if failed || keep {
        println!(
            "kasan selftest: sources, binaries and each case's output are in {}",
            dir.display()
        );
    } else {
        let _ = fs::remove_dir_all(&dir);
    }
    println!("{}", counts_line(&rows, false));
    Ok(if failed { 1 } else { 0 })
}

/// `N passed, N failed, N skipped` (skipped counts `n/a` too); `detail` adds how many of
/// the skips are the mode's.
fn counts_line(rows: &[Row], detail: bool) -> String {
    let count = |o: Outcome| rows.iter().filter(|r| r.outcome == o).count();
    let (pass, fail, skip, na) = (
        count(Outcome::Pass),
        count(Outcome::Fail),
        count(Outcome::Skip),
        count(Outcome::NotForMode),
    );
    if detail {
        format!(
            "{pass} passed, {fail} failed, {} skipped ({na} not run in this mode by Linux's table, {skip} for another reason)",
            skip + na
        )
    } else {
        format!("{pass} passed, {fail} failed, {} skipped", skip + na)
    }
}

fn make_temp_dir() -> Result<PathBuf, String> {
    let base = std::env::temp_dir();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = base.join(format!("kasan-selftest-{}-{nanos:08x}", std::process::id()));
    fs::create_dir(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}

/// Whether an executable file `name` is in one of `PATH`'s directories.
fn in_path(name: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| {
            fs::metadata(dir.join(name))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    })
}

/// The flags of the Rust case's build: every access a call that the runtime answers
/// (`__asan_load1_noabort`...), no stack or globals instrumentation, a staticlib (which
/// does not link rustc's own sanitizer runtime).
const RUSTC_FLAGS: &[&str] = &[
    "-Zsanitizer=address",
    "-Zsanitizer-recover=address",
    "-Cllvm-args=-asan-instrumentation-with-call-threshold=0",
    "-Cllvm-args=-asan-stack=0",
    "-Cllvm-args=-asan-globals=0",
    "-Cpanic=abort",
    "-O",
    "--crate-type=staticlib",
    "--edition=2021",
    "--crate-name=kasan_test_rust",
];

fn build_rust(dir: &Path) -> Rust {
    let probe = Command::new("rustc")
        .args(["+nightly", "--version"])
        .stdin(Stdio::null())
        .output();
    match probe {
        Ok(out) if out.status.success() => {}
        Ok(_) | Err(_) => {
            return Rust::Missing(
                "no nightly Rust toolchain (`rustc +nightly --version` failed): Rust code \
                 is instrumented by nightly's -Zsanitizer=address only (install: rustup \
                 toolchain install nightly)"
                    .into(),
            )
        }
    }
    let lib = dir.join("libkasan_test_rust.a");
    let out = Command::new("rustc")
        .arg("+nightly")
        .args(RUSTC_FLAGS)
        .arg(dir.join("kasan_test_rust.rs"))
        .arg("-o")
        .arg(&lib)
        .stdin(Stdio::null())
        .output();
    match out {
        Ok(out) if out.status.success() => Rust::Built(lib),
        Ok(out) => Rust::Failed(format!(
            "rustc +nightly could not build kasan_test_rust.rs:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )),
        Err(e) => Rust::Failed(format!("cannot run rustc +nightly: {e}")),
    }
}

/// Builds `kasan_test-<mode>` in `dir` with `kasan cc`.
fn build_suite(
    kasan: &Path,
    dir: &Path,
    mode: Mode,
    compiler: &str,
    rust: &Rust,
) -> Result<PathBuf, String> {
    let binary = dir.join(format!("kasan_test-{}", mode.name()));
    let mut cmd = Command::new(kasan);
    cmd.arg("cc");
    match mode {
        Mode::Generic => {
            cmd.arg("--mode=generic");
            if compiler == "clang-19" {
                cmd.env("KASAN_CC", "clang-19");
            } else {
                cmd.env_remove("KASAN_CC");
            }
        }
        Mode::SwTags => {
            cmd.arg("--mode=sw-tags").env_remove("KASAN_CC");
        }
    }
    cmd.args(["-O2", "-g", "-Wall"])
        .arg(dir.join("kasan_test.c"))
        .arg("-o")
        .arg(&binary);
    match rust {
        Rust::Built(lib) => {
            cmd.arg("-DKASAN_TEST_RUST").arg(lib);
        }
        Rust::Missing(why) => {
            cmd.arg(format!("-DKASAN_TEST_RUST_SKIP=\"{}\"", c_string_body(why)));
        }
        Rust::Failed(_) => {}
    }
    let out = cmd
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {} cc: {e}", kasan.display()))?;
    if !out.status.success() {
        return Err(format!(
            "the {} build ({compiler}) failed:\n{}{}",
            mode.name(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(binary)
}

/// `s` as the inside of a C string literal.
fn c_string_body(s: &str) -> String {
    s.chars()
        .flat_map(|c| match c {
            '"' | '\\' => vec!['\\', c],
            '\n' => vec![' '],
            c => vec![c],
        })
        .collect()
}

/// Runs every case of `binary`, a few at a time; rows in the suite's order.
fn run_cases(binary: &Path, dir: &Path, mode: Mode, rust: &Rust) -> Result<Vec<Row>, String> {
    let out = Command::new(binary)
        .arg("--list")
        .env_remove("KASAN_OPTIONS")
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
    if !out.status.success() {
        return Err(format!("{} --list failed", binary.display()));
    }
    let cases: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .filter(|l| !l.is_empty())
        .collect();
    let logs = dir.join(format!("logs-{}", mode.name()));
    fs::create_dir_all(&logs).map_err(|e| format!("cannot create {}: {e}", logs.display()))?;

    let jobs = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 8);
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Row>>> = Mutex::new(vec![None; cases.len()]);
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| loop {
                // Relaxed: the counter only hands out indices; results go through the mutex.
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(case) = cases.get(i) else { break };
                let mut row = run_case(binary, &logs, mode, case);
                if case == "rust_uaf" {
                    if let Rust::Failed(_) = rust {
                        row.outcome = Outcome::Fail;
                        row.reason = "kasan_test_rust.rs did not build with rustc +nightly".into();
                    }
                }
                results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(row);
            });
        }
    });
    Ok(results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .flatten()
        .collect())
}

/// Runs one case; its stdout and stderr go to `<logs>/<case>.out` and `.log`.
fn run_case(binary: &Path, logs: &Path, mode: Mode, case: &str) -> Row {
    let mut row = Row {
        case: case.to_owned(),
        mode,
        outcome: Outcome::Fail,
        bugs: String::new(),
        reason: String::new(),
    };
    let out_path = logs.join(format!("{case}.out"));
    let log_path = logs.join(format!("{case}.log"));
    let (Ok(out_file), Ok(log_file)) = (fs::File::create(&out_path), fs::File::create(&log_path))
    else {
        row.reason = format!("cannot create the output files in {}", logs.display());
        return row;
    };
    let child = Command::new(binary)
        .arg(case)
        .env_remove("KASAN_OPTIONS")
        .env_remove("KASAN_TEST_REEXEC")
        .stdin(Stdio::null())
        .stdout(out_file)
        .stderr(log_file)
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            row.reason = format!("cannot run {}: {e}", binary.display());
            return row;
        }
    };
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() > CASE_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => {
                row.reason = format!("waiting for the case failed: {e}");
                return row;
            }
        }
    };
    let mut stdout = String::new();
    if let Ok(mut f) = fs::File::open(&out_path) {
        let _ = f.read_to_string(&mut stdout);
    }
    let result_line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with("ok ") || l.starts_with("not ok ") || l.starts_with("skip "))
        .unwrap_or("");
    if let Some(types) = stdout
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("bug-types:"))
    {
        row.bugs = summarise_bug_types(types);
    }
    let after_colon = |l: &str| {
        l.split_once(": ")
            .map_or(String::new(), |(_, r)| r.to_owned())
    };
    let Some(status) = status else {
        row.reason = format!("timed out after {} s", CASE_TIMEOUT.as_secs());
        return row;
    };
    match (status.code(), status.signal()) {
        (Some(EXIT_OK), _) if result_line == format!("ok {case}") => row.outcome = Outcome::Pass,
        (Some(EXIT_FAIL), _) if result_line.starts_with("not ok ") => {
            row.reason = format!("{} (log: {})", after_colon(result_line), log_path.display());
        }
        (Some(EXIT_SKIP_MODE), _) if result_line.starts_with("skip ") => {
            row.outcome = Outcome::NotForMode;
            row.reason = after_colon(result_line);
        }
        (Some(EXIT_SKIP_OTHER), _) if result_line.starts_with("skip ") => {
            row.outcome = Outcome::Skip;
            row.reason = after_colon(result_line);
        }
        (_, Some(signal)) => {
            row.reason = format!("killed by signal {signal} (see {})", log_path.display());
        }
        (code, _) => {
            row.reason = format!(
                "exit status {} with result line {result_line:?}",
                code.unwrap_or(-1)
            );
        }
    }
    row
}

/// `a a b` -> `a x2, b`.
fn summarise_bug_types(types: &str) -> String {
    let mut groups: Vec<(&str, usize)> = Vec::new();
    for t in types.split_whitespace() {
        match groups.last_mut() {
            Some((last, n)) if *last == t => *n += 1,
            _ => groups.push((t, 1)),
        }
    }
    groups
        .iter()
        .map(|(t, n)| {
            if *n > 1 {
                format!("{t} x{n}")
            } else {
                (*t).to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn print_table(rows: &[Row]) {
    let w_case = rows.iter().map(|r| r.case.len()).max().unwrap_or(4).max(4);
    let w_bugs = rows
        .iter()
        .map(|r| r.bugs.len())
        .max()
        .unwrap_or(9)
        .clamp(9, 48);
    println!(
        "{:<w_case$}  {:<7}  {:<6}  {:<w_bugs$}  reason",
        "case", "mode", "result", "bug types"
    );
    for r in rows {
        let line = format!(
            "{:<w_case$}  {:<7}  {:<6}  {:<w_bugs$}  {}",
            r.case,
            r.mode.name(),
            r.outcome.label(),
            if r.bugs.is_empty() { "-" } else { &r.bugs },
            r.reason
        );
        println!("{}", line.trim_end());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bug_types_are_grouped_in_order() {
        assert_eq!(summarise_bug_types(""), "");
        assert_eq!(summarise_bug_types("a"), "a");
        assert_eq!(summarise_bug_types("a a b a"), "a x2, b, a");
    }

    #[test]
    fn c_string_escapes() {
        assert_eq!(c_string_body(r#"a "b" \c"#), r#"a \"b\" \\c"#);
        assert_eq!(c_string_body("x\ny"), "x y");
    }

    #[test]
    fn counts_include_not_for_mode_as_skipped() {
        let row = |outcome| Row {
            case: "c".into(),
            mode: Mode::Generic,
            outcome,
            bugs: String::new(),
            reason: String::new(),
        };
        let rows = [
            row(Outcome::Pass),
            row(Outcome::Fail),
            row(Outcome::Skip),
            row(Outcome::NotForMode),
        ];
        assert_eq!(counts_line(&rows, false), "1 passed, 1 failed, 2 skipped");
    }
}
