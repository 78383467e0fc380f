//! `kasan run [--options "..."] PROGRAM [ARGS...]`: run a KASAN-built program.
//!
//! The program needs no wrapper (the runtime is linked in); `run` only validates
//! `--options` before the program starts, where a typo would otherwise show up as the
//! runtime's error at start-up, and passes the exit status through.

use std::ffi::OsString;
use std::process::Command;

use kasan_core::config::Config;

use crate::child;

/// Checks a `KASAN_OPTIONS` string; every rejected parameter, as a message naming it.
pub fn validate(options: &str) -> Vec<String> {
    let mut errors = Vec::new();
    Config::parse(options, |e| errors.push(e.to_string()));
    errors
}

/// Runs `kasan run`; returns the process exit code.
pub fn main(options: Option<&str>, command: &[OsString]) -> i32 {
    let Some((program, args)) = command.split_first() else {
        eprintln!("kasan run: no program given");
        return 2;
    };
    let mut cmd = Command::new(program);
    cmd.args(args);
    if let Some(options) = options {
        let errors = validate(options);
        if !errors.is_empty() {
            for e in &errors {
                eprintln!("kasan run: {e}");
            }
            return 2;
        }
        cmd.env("KASAN_OPTIONS", options);
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
        assert!(validate("kasan_multi_shot,kasan.fault=panic kasan.stacktrace=off").is_empty());
        let errors = validate("kasan.bogus kasan.fault=sometimes");
        assert_eq!(errors.len(), 2);
        assert!(errors[0].contains("kasan.bogus"));
        assert!(errors[1].contains("kasan.fault=sometimes"));
    }
}
