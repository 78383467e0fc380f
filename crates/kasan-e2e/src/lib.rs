//! The end-to-end test harness: every `tests/e2e/*.c` is built with `kasan cc` in four
//! variants (gcc and clang-19, inline and outline checks), run, and its output checked
//! against expectations written as comments in the C file.
//!
//! The expectation language is documented in `tests/e2e.rs` (the driver) and
//! `tests/e2e/README.md`. This library holds its pieces, each unit-tested:
//!
//! - [`spec`]: parsing the `// KEYWORD: value` directives of a file;
//! - [`matcher`]: `{...}` placeholders, line matching and the evaluation of checks;
//! - [`exec`]: running a process with a time limit;
//! - [`json`]: checking that a line is one JSON object (`JSON-LINES`);
//! - [`schema`]: validating every JSON line of the output against the schema;
//! - [`syz`]: syzkaller's title and corruption rules, which every report must pass;
//! - [`suite`]: building, running and judging one file in one variant, and running
//!   jobs in parallel.

#![forbid(unsafe_code)]

pub mod exec;
pub mod json;
pub mod matcher;
pub mod schema;
pub mod spec;
pub mod suite;
pub mod syz;
