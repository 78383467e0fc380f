//! The `kasan` command.
//!
//! - `kasan cc ...` compiles and links C with KASAN instrumentation and the runtime
//!   ([`cc`]),
//! - `kasan options` lists the `KASAN_OPTIONS` parameters ([`options`]),
//! - `kasan run PROGRAM ...` runs a KASAN-built program after checking its options,
//!   inherited and `--options`, merged in that order ([`run`]),
//! - `kasan symbolize BINARY < report` decodes a report's frames ([`symbolize`]),
//! - `kasan stats` explains the exit statistics line ([`stats`]),
//! - `kasan selftest` builds and runs the ported Linux KASAN KUnit suite in both modes
//!   ([`selftest`]).
//!
//! clap parses the subcommand; `cc` takes its arguments raw and parses its few options by
//! hand, because everything after them belongs to the compiler and must pass through
//! untouched (`-O2`, `-v`, `-h`... would otherwise be taken for ours).

#![forbid(unsafe_code)]

mod cc;
mod child;
mod options;
mod run;
mod selftest;
mod stats;
mod symbolize;

use std::ffi::OsString;

use clap::{Parser, Subcommand};

/// Kernel Address Sanitizer for C programs, with Linux-format reports.
#[derive(Debug, Parser)]
#[command(name = "kasan", version)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Compile and link like cc, adding KASAN instrumentation and the runtime.
    ///
    /// kasan cc [--mode=generic|sw-tags] [--outline|--inline] [--print-flags] [compiler
    /// args...]; `kasan cc --help` explains.
    #[command(disable_help_flag = true)]
    Cc {
        /// Our options, then the compiler's arguments.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
        args: Vec<OsString>,
    },
    /// List the run-time parameters KASAN_OPTIONS accepts.
    Options,
    /// Run a program built with `kasan cc`, passing its exit status through.
    Run {
        /// Add to KASAN_OPTIONS for the program, after the inherited value (so these win
        /// where both set a parameter). Every parameter of both is checked first; on
        /// any error the program is not started (exit 2).
        #[arg(long, value_name = "PARAMS")]
        options: Option<OsString>,
        /// The program and its arguments.
        #[arg(
            required = true,
            trailing_var_arg = true,
            allow_hyphen_values = true,
            num_args = 1..,
            value_name = "PROGRAM [ARGS]"
        )]
        command: Vec<OsString>,
    },
    /// Decode a report's frames (func+0xoff/0xsize or addresses) read from stdin
    /// into file:line with inlined functions, like Linux's decode_stacktrace.sh.
    Symbolize {
        /// The program the report came from (built with -g).
        binary: std::path::PathBuf,
    },
    /// Explain the `kasan: stats:` line printed with KASAN_OPTIONS=kasan.stats=on.
    Stats,
    /// Build and run the ported Linux KASAN KUnit suite (76 cases), one process per
    /// case, and print a table and `N passed, N failed, N skipped`.
    Selftest {
        /// The modes to build and run the suite in.
        #[arg(long, value_enum, default_value = "both")]
        mode: selftest::ModeChoice,
        /// Keep the temporary directory (sources, binaries, each case's output); it is
        /// always kept when something failed.
        #[arg(long)]
        keep: bool,
    },
}

fn main() {
    let code = match Cli::parse().command {
        Cmd::Cc { args } => cc::main(&args),
        Cmd::Options => options::main(),
        Cmd::Run { options, command } => run::main(options.as_deref(), &command),
        Cmd::Symbolize { binary } => symbolize::main(&binary),
        Cmd::Stats => stats::main(),
        Cmd::Selftest { mode, keep } => selftest::main(mode, keep),
    };
    std::process::exit(code);
}
