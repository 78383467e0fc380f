//! The in-kernel KASAN suite's runner (KUnit's role): runs each C case of
//! `c/kasan_test.c` under a guard, checks each expectation's report and bug type
//! (as the hosted harness `tests/kunit/kunit.h` does), prints KTAP-like result
//! lines, the count of expectations caught and missed, and `N passed, N failed`.

use core::ffi::{c_char, c_void};
use core::fmt::Write;
use core::sync::atomic::{AtomicU8, Ordering};

use kasan_core::sync::SpinLock;

use crate::abi::{c_str, cases, guarded};
use crate::runtime::REPORTER;
use crate::Buf;

#[derive(Debug)]
struct State {
    name: &'static str,
    failures: u32,
    reports_seen: usize,
    /// The expectation running: expression, bug type, line.
    pending: Option<(&'static str, &'static str, i32)>,
    caught: u32,
    missed: u32,
    /// Why the case skipped itself, if it did.
    skipped: Option<&'static str>,
}

static STATE: SpinLock<State> = SpinLock::new(State {
    name: "",
    failures: 0,
    reports_seen: 0,
    pending: None,
    caught: 0,
    missed: 0,
    skipped: None,
});

fn say(args: core::fmt::Arguments<'_>) {
    let mut buf = [0u8; 512];
    let mut w = Buf::new(&mut buf);
    let _ = w.write_fmt(args);
    crate::io::serial_write(w.bytes());
}

fn fail(s: &mut State, line: i32, args: core::fmt::Arguments<'_>) {
    s.failures += 1;
    say(format_args!("    # {}: line {}: {}\n", s.name, line, args));
}

/// The newest bug type as a C string (NULL when none), in a static buffer.
pub fn c_string(s: Option<&str>) -> *const u8 {
    static BUF: [AtomicU8; 64] = [const { AtomicU8::new(0) }; 64];
    let Some(s) = s else {
        return core::ptr::null();
    };
    let n = s.len().min(63);
    for (i, b) in s.bytes().take(n).enumerate() {
        // Relaxed: one CPU; the buffer is read by the caller right after.
        BUF[i].store(b, Ordering::Relaxed);
    }
    BUF[n].store(0, Ordering::Relaxed);
    BUF.as_ptr().cast()
}

/// `EXPECT_KASAN_FAIL`'s start: no report may be pending.
#[unsafe(no_mangle)]
pub extern "C" fn kt_expect_before(
    _test: *mut c_void,
    expr: *const c_char,
    bug_type: *const c_char,
    line: i32,
) {
    let n = REPORTER.count();
    let mut s = STATE.lock();
    if n != s.reports_seen {
        let extra = n - s.reports_seen;
        fail(
            &mut s,
            line,
            format_args!("{extra} report(s) outside any expectation"),
        );
        s.reports_seen = n;
    }
    s.pending = Some((c_str(expr), c_str(bug_type), line));
}

fn settle(s: &mut State) {
    let Some((expr, want, line)) = s.pending.take() else {
        return;
    };
    let n = REPORTER.count();
    if n == s.reports_seen {
        s.missed += 1;
        fail(
            s,
            line,
            format_args!(
                "KASAN failure expected in `{expr}` ({want}), but none occurred: NOT caught"
            ),
        );
        return;
    }
    s.reports_seen = n;
    s.caught += 1;
    match REPORTER.last_bug_type() {
        Some(seen) if seen == want => {}
        seen => fail(
            s,
            line,
            format_args!(
                "`{expr}` reported {}, expected {want}",
                seen.unwrap_or("no type")
            ),
        ),
    }
}

/// `EXPECT_KASAN_FAIL`'s end: a report must have come, of the type named.
#[unsafe(no_mangle)]
pub extern "C" fn kt_expect_after(_test: *mut c_void, _line: i32) {
    settle(&mut STATE.lock());
}

/// An assertion of the case failed.
#[unsafe(no_mangle)]
pub extern "C" fn kt_fail(_test: *mut c_void, line: i32, what: *const c_char) {
    let mut s = STATE.lock();
    fail(&mut s, line, format_args!("{}", c_str(what)));
}

/// The case cannot run here (a tool missing): it is neither passed nor failed.
#[unsafe(no_mangle)]
pub extern "C" fn kt_skip(_test: *mut c_void, why: *const c_char) {
    let mut s = STATE.lock();
    s.skipped = Some(c_str(why));
}

/// Results of the whole suite.
#[derive(Debug, Clone, Copy)]
pub struct Totals {
    /// Cases passed.
    pub passed: u32,
    /// Cases failed.
    pub failed: u32,
    /// Cases skipped (a tool missing).
    pub skipped: u32,
    /// Expectations that got their report.
    pub caught: u32,
    /// Expectations that got none.
    pub missed: u32,
}

/// Runs every case.
pub fn run() -> Totals {
    let all = cases();
    // As Linux's suite_init: every report is printed, not only the first.
    REPORTER.set_multi_shot(true);
    say(format_args!(
        "KTAP version 1\n1..1\n    # Subtest: kasan\n    1..{}\n",
        all.len()
    ));
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for (i, c) in all.iter().enumerate() {
        {
            let mut s = STATE.lock();
            s.name = c_str(c.name);
            s.failures = 0;
            s.reports_seen = REPORTER.count();
            s.pending = None;
            s.skipped = None;
        }
        let returned = guarded(c.run, core::ptr::null_mut());
        let mut s = STATE.lock();
        if !returned {
            if s.pending.is_some() {
                // The expression faulted (a general protection fault): the case ends
                // there, as the task would die in Linux; its expectation is settled now.
                settle(&mut s);
            } else {
                fail(&mut s, 0, format_args!("fault outside an expectation"));
            }
        }
        let n = REPORTER.count();
        if n != s.reports_seen {
            let extra = n - s.reports_seen;
            fail(
                &mut s,
                0,
                format_args!("{extra} report(s) outside any expectation"),
            );
        }
        if let (0, Some(why)) = (s.failures, s.skipped) {
            skipped += 1;
            say(format_args!("    ok {} {} # SKIP {}\n", i + 1, s.name, why));
        } else if s.failures == 0 {
            passed += 1;
            say(format_args!("    ok {} {}\n", i + 1, s.name));
        } else {
            failed += 1;
            say(format_args!("    not ok {} {}\n", i + 1, s.name));
        }
    }
    let s = STATE.lock();
    Totals {
        passed,
        failed,
        skipped,
        caught: s.caught,
        missed: s.missed,
    }
}
