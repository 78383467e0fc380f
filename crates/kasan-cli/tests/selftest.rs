//! `kasan selftest` (the ported Linux KASAN KUnit suite, tests/kunit/) passes in both
//! modes: every one of the 76 cases has a row per mode, none fails, the cases Linux's
//! table does not run in a mode are `n/a` there (9 in generic mode, 7 in sw-tags mode),
//! at most two per mode skip for another reason, each with its reason, and the last
//! line is the `N passed, 0 failed, N skipped` summary.

use std::process::Command;

const CASES: usize = 76;

#[test]
fn selftest_passes_in_both_modes() {
    let out = Command::new(env!("CARGO_BIN_EXE_kasan"))
        .arg("selftest")
        .env_remove("KASAN_OPTIONS")
        .output()
        .expect("run kasan selftest");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let context = format!("stdout:\n{stdout}\nstderr:\n{stderr}");

    // Rows: case, mode, result, then bug types and the reason.
    let rows: Vec<Vec<&str>> = stdout
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|w| {
            w.len() >= 3
                && matches!(w[1], "generic" | "sw-tags")
                && matches!(w[2], "pass" | "FAIL" | "skip" | "n/a")
        })
        .collect();
    let failed: Vec<String> = rows
        .iter()
        .filter(|w| w[2] == "FAIL")
        .map(|w| w.join(" "))
        .collect();
    assert!(failed.is_empty(), "failed cases: {failed:#?}\n{context}");

    for (mode, not_run) in [("generic", 9), ("sw-tags", 7)] {
        let of_mode: Vec<&Vec<&str>> = rows.iter().filter(|w| w[1] == mode).collect();
        assert_eq!(of_mode.len(), CASES, "{mode}: rows\n{context}");
        let na = of_mode.iter().filter(|w| w[2] == "n/a").count();
        assert_eq!(na, not_run, "{mode}: cases not run in this mode\n{context}");
        let skipped: Vec<&&Vec<&str>> = of_mode.iter().filter(|w| w[2] == "skip").collect();
        assert!(
            skipped.len() <= 2,
            "{mode}: more than 2 skips: {skipped:#?}\n{context}"
        );
        for w in &skipped {
            // A skip says why: the row goes on after the bug types column ("-").
            assert!(
                w.len() > 4,
                "{mode}: a skip without a reason: {w:?}\n{context}"
            );
        }
    }

    let last = stdout.lines().last().unwrap_or("");
    let words: Vec<&str> = last.split_whitespace().collect();
    assert!(
        words.len() == 6
            && words[1] == "passed,"
            && words[2] == "0"
            && words[3] == "failed,"
            && words[5] == "skipped",
        "last line {last:?}\n{context}"
    );
    assert!(
        out.status.success(),
        "exit status {:?}\n{context}",
        out.status
    );
}
