//! `kasan options`: the run-time parameter table, as aligned columns.
//!
//! The table itself is `kasan_core::config::OPTIONS`, the one the runtime parses
//! `KASAN_OPTIONS` with, so this listing cannot drift from what is accepted.

use kasan_core::config::{OptionSpec, OPTIONS};

/// How `KASAN_OPTIONS` is written, printed under the table.
pub const SYNTAX_NOTE: &str = "KASAN_OPTIONS holds Linux boot parameters separated by spaces or \
commas, e.g. KASAN_OPTIONS=\"kasan_multi_shot kasan.fault=panic,kasan.stacktrace=off\"; \
a flag is the bare name, everything else name=value; later parameters win. A program \
reports each bad parameter in one line and runs with the others; `kasan run` checks the \
inherited KASAN_OPTIONS and --options (merged in that order) and does not start the program \
if any is bad.";

/// Renders the table: one header row, one row per option, help text last (unpadded, so
/// long help lines do not widen every row).
pub fn render(options: &[OptionSpec]) -> String {
    let header = ["NAME", "VALUES", "DEFAULT", "MODES", "HELP"];
    let rows: Vec<[&str; 5]> = options
        .iter()
        .map(|o| {
            // An empty default means "computed at start-up" (see the help text).
            let default = if o.default.is_empty() { "-" } else { o.default };
            [o.name, o.kind.syntax(), default, o.modes, o.help]
        })
        .collect();
    let mut widths = [0usize; 4];
    for row in std::iter::once(&header).chain(&rows) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        for (w, cell) in widths.iter().zip(row) {
            out.push_str(&format!("{cell:<w$}  "));
        }
        out.push_str(row[4]);
        out.push('\n');
    }
    out.push('\n');
    out.push_str(SYNTAX_NOTE);
    out.push('\n');
    out
}

/// Runs `kasan options`.
pub fn main() -> i32 {
    print!("{}", render(OPTIONS));
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_option_one_aligned_row() {
        let text = render(OPTIONS);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("NAME"));
        let help_col = lines[0].find("HELP").unwrap();
        for (spec, line) in OPTIONS.iter().zip(&lines[1..]) {
            assert!(line.starts_with(spec.name), "{line}");
            assert_eq!(&line[help_col..], spec.help);
            assert!(line.contains(spec.kind.syntax()));
        }
        assert!(text.contains("kasan.fault"));
        assert!(text.trim_end().ends_with(SYNTAX_NOTE));
    }
}
