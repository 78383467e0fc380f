//! `kasan run` as the strict door: the inherited `KASAN_OPTIONS` and `--options` are both
//! checked, merged in that order, and any error keeps the program from starting.
//! The program here is `sh`, which shows what it was given and leaves a mark when it runs.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;
use std::process::{Command, Output};

/// A fresh directory for one test's mark file.
fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kasan-run-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `kasan run [--options OPTS] sh -c SCRIPT` with `KASAN_OPTIONS` set to `inherited`
/// (or unset).
fn run(inherited: Option<OsString>, options: Option<&str>, script: &str) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kasan"));
    cmd.arg("run");
    if let Some(o) = options {
        cmd.args(["--options", o]);
    }
    cmd.args(["sh", "-c", script]);
    match inherited {
        Some(v) => cmd.env("KASAN_OPTIONS", v),
        None => cmd.env_remove("KASAN_OPTIONS"),
    };
    cmd.output().unwrap()
}

fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap()
}

#[test]
fn an_inherited_error_stops_the_program_before_it_starts() {
    let d = dir("inherited");
    let mark = d.join("started");
    let script = format!("touch '{}'; echo started", mark.display());
    let out = run(
        Some("kasan_multi_shot kasan.falut=panic".into()),
        None,
        &script,
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(text(&out.stdout), "");
    assert!(!mark.exists());
    assert_eq!(
        text(&out.stderr),
        "kasan run: KASAN_OPTIONS: unknown parameter 'kasan.falut=panic' (`kasan options` lists them)\n\
         kasan run: not starting 'sh': 1 bad parameter (a program started without `kasan run` reports them and runs with the rest)\n"
    );
    // Not UTF-8: that one parameter is named, escaped.
    let out = run(
        Some(OsString::from_vec(
            b"kasan.fault=pan\xffic kasan_multi_shot".to_vec(),
        )),
        Some("kasan.stacktrace=sometimes"),
        &script,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(!mark.exists());
    assert_eq!(
        text(&out.stderr),
        "kasan run: KASAN_OPTIONS: malformed parameter 'kasan.fault=pan\\xffic': expected report|panic|panic_on_write\n\
         kasan run: --options: malformed parameter 'kasan.stacktrace=sometimes': expected on|off\n\
         kasan run: not starting 'sh': 2 bad parameters (a program started without `kasan run` reports them and runs with the rest)\n"
    );
    // Over 64 KiB inherited: refused, naming the limit.
    let long = format!("{}kasan_multi_shot", "kasan.stats=on ".repeat(4400));
    let out = run(Some(long.clone().into()), None, &script);
    assert_eq!(out.status.code(), Some(2));
    assert!(!mark.exists());
    assert!(
        text(&out.stderr).starts_with(&format!(
            "kasan run: KASAN_OPTIONS: {} bytes, over the limit of 65536: ",
            long.len()
        )),
        "{}",
        text(&out.stderr)
    );
    std::fs::remove_dir_all(&d).ok();
}

#[test]
fn an_options_error_stops_the_program() {
    let d = dir("options");
    let mark = d.join("started");
    let script = format!("touch '{}'", mark.display());
    let out = run(
        Some("kasan_multi_shot".into()),
        Some("kasan.stack_depth=0"),
        &script,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(!mark.exists());
    assert!(
        text(&out.stderr).starts_with(
            "kasan run: --options: parameter 'kasan.stack_depth=0' out of range: expected 1..=256\n"
        ),
        "{}",
        text(&out.stderr)
    );
    // --options that are not UTF-8 reach the check too (not clap's refusal).
    let out = Command::new(env!("CARGO_BIN_EXE_kasan"))
        .arg("run")
        .arg("--options")
        .arg(OsString::from_vec(b"kasan_multi_shot kasan.\xfe".to_vec()))
        .args(["sh", "-c", &script])
        .env_remove("KASAN_OPTIONS")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!mark.exists());
    assert!(
        text(&out.stderr).starts_with(
            "kasan run: --options: unknown parameter 'kasan.\\xfe' (`kasan options` lists them)\n"
        ),
        "{}",
        text(&out.stderr)
    );
    std::fs::remove_dir_all(&d).ok();
}

#[test]
fn options_come_after_the_inherited_value() {
    let script = "printf '%s|' \"$KASAN_OPTIONS\"; exit 7";
    let out = run(
        Some("kasan.fault=panic kasan.stacktrace=off".into()),
        Some("kasan.fault=report,kasan_multi_shot"),
        script,
    );
    assert_eq!(
        text(&out.stdout),
        "kasan.fault=panic kasan.stacktrace=off kasan.fault=report,kasan_multi_shot|"
    );
    assert_eq!(text(&out.stderr), "");
    // The program's status is passed through.
    assert_eq!(out.status.code(), Some(7));
}

#[test]
fn valid_options_run_the_program_with_them() {
    let script = "printf '%s|' \"${KASAN_OPTIONS-unset}\"";
    // Inherited only: passed on as it is.
    let out = run(Some("kasan_multi_shot".into()), None, script);
    assert_eq!(
        (out.status.code(), text(&out.stdout)),
        (Some(0), "kasan_multi_shot|")
    );
    // --options only.
    let out = run(None, Some("kasan.stats=on"), script);
    assert_eq!(
        (out.status.code(), text(&out.stdout)),
        (Some(0), "kasan.stats=on|")
    );
    // Neither: the environment stays without it.
    let out = run(None, None, script);
    assert_eq!((out.status.code(), text(&out.stdout)), (Some(0), "unset|"));
    assert_eq!(text(&out.stderr), "");
}
