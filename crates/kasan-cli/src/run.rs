//! `kasan run [--options "..."] PROGRAM [ARGS...]`: run a KASAN-built program.
//!
//! The program needs no wrapper (the runtime is linked in). A program started directly
//! reports each bad `KASAN_OPTIONS` parameter and runs with the others, as a kernel
//! treats its command line; `run` is the strict door. It checks the inherited
//! `KASAN_OPTIONS` and `--options`, merges them in that order (so `--options` wins
//! where both set a parameter, as later parameters on a kernel command line do), passes
//! the merged value to the program, and refuses to start it (exit 2, every error
//! printed) if either has any error. The program's exit status is passed through.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::process::Command;

use kasan_core::config::{Config, ConfigError, ErrorKind, OPTIONS_MAX};

use crate::child;

/// Checks a `KASAN_OPTIONS` value (any bytes); every rejected parameter, as a message
/// naming it.
pub fn validate(options: &[u8]) -> Vec<String> {
    let mut errors = Vec::new();
    Config::parse_bytes(options, |e| errors.push(e.to_string()));
    errors
}

/// The value the program gets: `inherited`, then `options`, separated by a space
/// (either alone as it is).
pub fn merge(inherited: &[u8], options: &[u8]) -> Vec<u8> {
    match (inherited.is_empty(), options.is_empty()) {
        (true, _) => options.to_vec(),
        (_, true) => inherited.to_vec(),
        _ => [inherited, b" ", options].concat(),
    }
}

/// Checks both sources and merges them: the value to pass (`None`: leave the
/// environment as it is), or every error, each a line naming where it came from.
pub fn prepare(
    inherited: Option<&OsStr>,
    options: Option<&OsStr>,
) -> Result<Option<OsString>, Vec<String>> {
    let mut errors = Vec::new();
    let sources = [("KASAN_OPTIONS", inherited), ("--options", options)];
    for (source, value) in sources {
        if let Some(value) = value {
            for e in validate(value.as_bytes()) {
                errors.push(format!("kasan run: {source}: {e}"));
            }
        }
    }
    let Some(options) = options else {
        return if errors.is_empty() {
            Ok(None)
        } else {
            Err(errors)
        };
    };
    let inherited = inherited.map_or(&[][..], OsStr::as_bytes);
    let merged = merge(inherited, options.as_bytes());
    let each_within = inherited.len() <= OPTIONS_MAX && options.len() <= OPTIONS_MAX;
    if merged.len() > OPTIONS_MAX && each_within {
        let e = ConfigError {
            param: &[],
            kind: ErrorKind::OverLimit { len: merged.len() },
        };
        errors.push(format!(
            "kasan run: KASAN_OPTIONS and --options merged: {e}"
        ));
    }
    if errors.is_empty() {
        Ok(Some(OsString::from_vec(merged)))
    } else {
        Err(errors)
    }
}

/// Runs `kasan run`; returns the process exit code.
pub fn main(options: Option<&OsStr>, command: &[OsString]) -> i32 {
    let Some((program, args)) = command.split_first() else {
        eprintln!("kasan run: no program given");
        return 2;
    };
    let inherited = std::env::var_os("KASAN_OPTIONS");
    let value = match prepare(inherited.as_deref(), options) {
        Ok(value) => value,
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            eprintln!(
                "kasan run: not starting '{}': {} bad parameter{} (a program started without `kasan run` reports them and runs with the rest)",
                program.to_string_lossy(),
                errors.len(),
                if errors.len() == 1 { "" } else { "s" }
            );
            return 2;
        }
    };
    let mut cmd = Command::new(program);
    cmd.args(args);
    if let Some(value) = value {
        cmd.env("KASAN_OPTIONS", value);
    }
    match cmd.status() {
        Ok(status) => child::exit_code(status),
        Err(e) => {
            eprintln!("kasan run: cannot run '{}': {e}", program.to_string_lossy());
            // What a shell returns for a command it cannot execute.
            127
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_each_bad_parameter() {
        assert!(validate(b"kasan_multi_shot,kasan.fault=panic kasan.stacktrace=off").is_empty());
        let errors = validate(b"kasan.bogus kasan.fault=sometimes");
        assert_eq!(
            errors,
            [
                "unknown parameter 'kasan.bogus' (`kasan options` lists them)",
                "malformed parameter 'kasan.fault=sometimes': expected report|panic|panic_on_write"
            ]
        );
    }

    #[test]
    fn merges_inherited_then_options() {
        let os = |s: &str| OsString::from(s);
        assert_eq!(merge(b"", b"b"), b"b");
        assert_eq!(merge(b"a", b""), b"a");
        assert_eq!(merge(b"a", b"b"), b"a b");
        assert_eq!(prepare(Some(&os("kasan_multi_shot")), None), Ok(None));
        assert_eq!(
            prepare(
                Some(&os("kasan.fault=panic")),
                Some(&os("kasan.fault=report"))
            ),
            Ok(Some(os("kasan.fault=panic kasan.fault=report")))
        );
        assert_eq!(
            prepare(None, Some(&os("kasan.stats=on"))),
            Ok(Some(os("kasan.stats=on")))
        );
        // An error in either source is named with the source; all are listed.
        assert_eq!(
            prepare(Some(&os("kasan.bogus")), Some(&os("kasan.fault=maybe"))),
            Err(vec![
                "kasan run: KASAN_OPTIONS: unknown parameter 'kasan.bogus' (`kasan options` lists them)".to_string(),
                "kasan run: --options: malformed parameter 'kasan.fault=maybe': expected report|panic|panic_on_write".to_string(),
            ])
        );
        assert_eq!(
            prepare(Some(&os("kasan.bogus")), None).unwrap_err().len(),
            1
        );
        // Each within the limit, together over it.
        let half = "kasan.stats=on,".repeat(OPTIONS_MAX / 30 + 1);
        assert_eq!(
            prepare(Some(&os(&half)), Some(&os(&half))),
            Err(vec![format!(
                "kasan run: KASAN_OPTIONS and --options merged: {} bytes, over the limit of 65536: the parameters within the first 65536 bytes apply, the rest is ignored",
                2 * half.len() + 1
            )])
        );
    }
}
