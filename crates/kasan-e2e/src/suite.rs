//! Building, running and checking one test file in one variant, and running many such
//! jobs on a few threads.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::Duration;

use crate::exec;
use crate::matcher::{evaluate, is_report_line, Value, Vars};
use crate::spec::{Compiler, Exit, Mode, Spec, Variant};

/// `kasan cc` arguments every test gets before its own `RUN:` ones.
pub const DEFAULT_CC_ARGS: [&str; 2] = ["-g", "-O1"];

/// Time limit of one compilation.
pub const COMPILE_TIMEOUT: Duration = Duration::from_secs(300);

/// Environment variables of the caller that would change what is built or how it runs;
/// removed for every compilation and run (a test sets what it needs with `ENV:`).
pub const SCRUBBED_ENV: [&str; 4] = [
    "KASAN_OPTIONS",
    "KASAN_CC",
    "KASAN_LIB_DIR",
    "KASAN_INCLUDE_DIR",
];

/// Where things are.
#[derive(Debug, Clone)]
pub struct Config {
    /// The `kasan` command.
    pub kasan: PathBuf,
    /// Under which each job gets a directory of its own.
    pub work: PathBuf,
    /// Keep the directories of passing jobs too.
    pub keep: bool,
    /// Link against the runtime in this directory instead of `kasan cc`'s default
    /// (passed as `KASAN_LIB_DIR`), to try the suite on another build of the runtime.
    pub lib_dir: Option<PathBuf>,
}

/// A test file and its parsed directives.
#[derive(Debug, Clone)]
pub struct TestFile {
    /// The file.
    pub path: PathBuf,
    /// Its name, e.g. `slab-oob-right.c`.
    pub name: String,
    /// The directives.
    pub spec: Spec,
}

/// How a job ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Every expectation held.
    Pass,
    /// Some did not (the problems).
    Fail(Vec<String>),
    /// Some did not, as `XFAIL` said (its reason, the problems).
    XFail(String, Vec<String>),
    /// `XFAIL` said it would fail, yet it passed (the reason).
    XPass(String),
}

impl Outcome {
    /// Whether the suite fails because of it.
    pub fn is_bad(&self) -> bool {
        matches!(self, Outcome::Fail(_) | Outcome::XPass(_))
    }

    /// `PASS`, `FAIL`, `XFAIL`, `XPASS`.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Pass => "PASS",
            Outcome::Fail(_) => "FAIL",
            Outcome::XFail(..) => "XFAIL",
            Outcome::XPass(_) => "XPASS",
        }
    }
}

/// The result of one job, with all that is needed to understand a failure.
#[derive(Debug, Clone)]
pub struct JobResult {
    /// The test file's name.
    pub file: String,
    /// The variant.
    pub variant: Variant,
    /// The verdict.
    pub outcome: Outcome,
    /// How to rebuild it.
    pub build: String,
    /// How to rerun it.
    pub command: String,
    /// The compiler's output if the build failed, else the program's stderr.
    pub stderr: String,
    /// The program's stdout.
    pub stdout: String,
    /// The log file's contents (`LOG:` tests).
    pub log: Option<String>,
    /// The job's directory (kept when it failed).
    pub dir: PathBuf,
    /// Build plus run time.
    pub elapsed: Duration,
}

impl JobResult {
    /// A multi-line description of a failed (or unexpectedly passing) job: the
    /// problems, the commands, and the full output.
    pub fn details(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "---- {} {} [{}] ----",
            self.outcome.label(),
            self.file,
            self.variant
        );
        match &self.outcome {
            Outcome::Fail(problems) | Outcome::XFail(_, problems) => {
                for p in problems {
                    let _ = writeln!(s, "  * {p}");
                }
            }
            Outcome::XPass(reason) => {
                let _ = writeln!(
                    s,
                    "  * marked XFAIL ({reason}) but every expectation held: remove the XFAIL"
                );
            }
            Outcome::Pass => {}
        }
        let _ = writeln!(s, "  build: {}", self.build);
        let _ = writeln!(s, "  run:   {}", self.command);
        let _ = writeln!(s, "  --- stderr ---");
        s.push_str(&self.stderr);
        if !self.stderr.is_empty() && !self.stderr.ends_with('\n') {
            s.push('\n');
        }
        if let Some(log) = &self.log {
            let _ = writeln!(s, "  --- log file ---");
            s.push_str(log);
        }
        let _ = writeln!(s, "  --- stdout ---");
        s.push_str(&self.stdout);
        s
    }
}

/// The comm (task name) Linux gives a program: its file name cut to 15 bytes.
pub fn comm_of(binary_name: &str) -> String {
    let mut end = binary_name.len().min(15);
    while !binary_name.is_char_boundary(end) {
        end -= 1;
    }
    binary_name[..end].to_string()
}

fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Builds, runs and checks `test` in `variant`.
pub fn run_job(cfg: &Config, test: &TestFile, variant: Variant) -> JobResult {
    let stem = test
        .name
        .strip_suffix(".c")
        .unwrap_or(&test.name)
        .to_string();
    let dir = cfg.work.join(format!("{stem}.{variant}"));
    let binary = dir.join(&stem);
    let tmpdir = dir.display().to_string();
    let spec = &test.spec;

    let mut cc_args: Vec<String> = vec!["cc".into()];
    if variant.tags.is_some() {
        // Outline is sw-tags' only check style (and its default).
        cc_args.push("--mode=sw-tags".into());
    } else if variant.mode == Mode::Outline {
        cc_args.push("--outline".into());
    }
    cc_args.extend(DEFAULT_CC_ARGS.iter().map(|s| s.to_string()));
    cc_args.extend(spec.run_args.iter().cloned());
    cc_args.push(test.path.display().to_string());
    cc_args.push("-o".into());
    cc_args.push(binary.display().to_string());
    let clang = variant.compiler == Compiler::Clang;
    let build = format!(
        "{}{}{} {}",
        if clang { "KASAN_CC=clang-19 " } else { "" },
        match &cfg.lib_dir {
            Some(l) => format!("KASAN_LIB_DIR={} ", shell_quote(&l.display().to_string())),
            None => String::new(),
        },
        cfg.kasan.display(),
        cc_args
            .iter()
            .map(|a| shell_quote(a))
            .collect::<Vec<_>>()
            .join(" ")
    );

    let mut env: Vec<(String, String)> = spec
        .env
        .iter()
        .map(|(k, v)| (k.clone(), v.replace("{tmpdir}", &tmpdir)))
        .collect();
    if let Some(ring) = variant.tags {
        // The variant's ring design, before the test's own options (which win).
        let ring = format!("kasan.stack_ring={}", ring.option_value());
        match env.iter_mut().find(|(k, _)| k == "KASAN_OPTIONS") {
            Some((_, v)) => *v = format!("{ring} {v}"),
            None => env.push(("KASAN_OPTIONS".into(), ring)),
        }
    }
    let command = format!(
        "cd {} && {}./{}",
        shell_quote(&tmpdir),
        env.iter()
            .map(|(k, v)| format!("{k}={} ", shell_quote(v)))
            .collect::<String>(),
        shell_quote(&stem)
    );

    let mut result = JobResult {
        file: test.name.clone(),
        variant,
        outcome: Outcome::Pass,
        build,
        command,
        stderr: String::new(),
        stdout: String::new(),
        log: None,
        dir: dir.clone(),
        elapsed: Duration::ZERO,
    };
    let problems = build_run_check(cfg, test, variant, &cc_args, &env, &binary, &mut result);
    result.outcome = match (problems.is_empty(), spec.xfail_reason(variant)) {
        (true, None) => Outcome::Pass,
        (true, Some(reason)) => Outcome::XPass(reason.to_string()),
        (false, None) => Outcome::Fail(problems),
        (false, Some(reason)) => Outcome::XFail(reason.to_string(), problems),
    };
    if !cfg.keep && !result.outcome.is_bad() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

fn build_run_check(
    cfg: &Config,
    test: &TestFile,
    variant: Variant,
    cc_args: &[String],
    env: &[(String, String)],
    binary: &Path,
    result: &mut JobResult,
) -> Vec<String> {
    let spec = &test.spec;
    let dir = &result.dir;
    let _ = std::fs::remove_dir_all(dir);
    if let Err(e) = std::fs::create_dir_all(dir) {
        return vec![format!("cannot create {}: {e}", dir.display())];
    }

    // Build.
    let mut cc = Command::new(&cfg.kasan);
    cc.args(cc_args).current_dir(dir);
    for k in SCRUBBED_ENV {
        cc.env_remove(k);
    }
    if variant.compiler == Compiler::Clang {
        cc.env("KASAN_CC", "clang-19");
    }
    if let Some(lib) = &cfg.lib_dir {
        cc.env("KASAN_LIB_DIR", lib);
    }
    let built = match exec::run(&mut cc, COMPILE_TIMEOUT) {
        Ok(o) => o,
        Err(e) => return vec![format!("cannot run {}: {e}", cfg.kasan.display())],
    };
    result.elapsed = built.elapsed;
    if built.exit != Some(Exit::Code(0)) {
        result.stderr = format!("{}{}", built.stdout, built.stderr);
        return vec![match built.exit {
            Some(e) => format!("build failed ({e})"),
            None => format!("build timed out after {}s", COMPILE_TIMEOUT.as_secs()),
        }];
    }

    // Run, with core dumps off (EXIT: SIGSEGV tests would otherwise leave cores).
    let mut run = Command::new("sh");
    run.args(["-c", "ulimit -c 0 2>/dev/null; exec \"$0\""])
        .arg(binary)
        .current_dir(dir);
    for k in SCRUBBED_ENV {
        run.env_remove(k);
    }
    run.envs(env.iter().map(|(k, v)| (k, v)));
    let out = match exec::run(&mut run, spec.timeout) {
        Ok(o) => o,
        Err(e) => return vec![format!("cannot run {}: {e}", binary.display())],
    };
    result.elapsed += out.elapsed;
    result.stderr = out.stderr.clone();
    result.stdout = out.stdout.clone();

    let mut problems = Vec::new();
    match out.exit {
        None => problems.push(format!(
            "timed out after {}s (killed)",
            spec.timeout.as_secs()
        )),
        Some(e) if e != spec.exit_for(variant) => {
            problems.push(format!("expected {}, got {e}", spec.exit_for(variant)));
        }
        Some(_) => {}
    }
    let mut vars = match Vars::from_stdout(&out.stdout) {
        Ok(v) => v,
        Err(e) => {
            problems.push(e);
            Vars::default()
        }
    };
    let stem = binary
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    vars.set("pid", Value::Num(u64::from(out.pid)));
    vars.set("comm", Value::Text(comm_of(&stem)));
    vars.set("tmpdir", Value::Text(dir.display().to_string()));
    vars.tag_granules = variant.tags.is_some();

    let checked = match &spec.log {
        None => out.stderr.clone(),
        Some(name) => {
            if let Some(l) = out.stderr.lines().find(|l| is_report_line(l)) {
                problems.push(format!(
                    "a report went to stderr instead of the log file: {l}"
                ));
            }
            match std::fs::read_to_string(dir.join(name)) {
                Ok(text) => {
                    result.log = Some(text.clone());
                    text
                }
                Err(e) => {
                    problems.push(format!("log file {name} not readable: {e}"));
                    String::new()
                }
            }
        }
    };
    let shown = format!("tests/e2e/{}", test.name);
    if spec.json_lines {
        for (i, line) in checked.lines().enumerate() {
            if let Err(e) = crate::json::object(line) {
                problems.push(format!(
                    "{shown}: JSON-LINES: output line {} is not one JSON object ({e}): {line}",
                    i + 1
                ));
            }
        }
    }
    problems.extend(crate::schema::check_output(&shown, "stderr", &out.stderr));
    if let Some(log) = &result.log {
        problems.extend(crate::schema::check_output(&shown, "log", log));
    }
    problems.extend(evaluate(spec, variant, &checked, &vars, &shown));
    problems.extend(crate::syz::check_reports(&checked, &shown));
    problems
}

/// Runs every job on `threads` threads, calling `done` (under a lock, in completion
/// order) as each finishes; returns the results in job order.
pub fn run_all(
    cfg: &Config,
    jobs: &[(&TestFile, Variant)],
    threads: usize,
    done: impl Fn(&JobResult, usize, usize) + Sync,
) -> Vec<JobResult> {
    let next = AtomicUsize::new(0);
    let finished = Mutex::new(0usize);
    let results: Mutex<Vec<Option<JobResult>>> = Mutex::new(vec![None; jobs.len()]);
    thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(&(test, variant)) = jobs.get(i) else {
                    break;
                };
                let r = run_job(cfg, test, variant);
                {
                    let mut n = finished.lock().unwrap_or_else(|e| e.into_inner());
                    *n += 1;
                    done(&r, *n, jobs.len());
                }
                results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|r| r.expect("every job ran"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comm_is_cut_to_15_bytes() {
        assert_eq!(comm_of("slab-oob-right-write"), "slab-oob-right-");
        assert_eq!(comm_of("oob"), "oob");
    }

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("a/b-c.d"), "a/b-c.d");
        assert_eq!(
            shell_quote("kasan_multi_shot kasan.fault=panic"),
            "'kasan_multi_shot kasan.fault=panic'"
        );
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
    }
}
