//! The directives of a test file: `// KEYWORD: value` comment lines (the language is
//! described in `tests/e2e.rs` and `tests/e2e/README.md`).

use std::fmt;
use std::time::Duration;

/// The compiler a variant builds with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compiler {
    /// gcc, `kasan cc`'s default.
    Gcc,
    /// clang-19, selected with `KASAN_CC=clang-19`.
    Clang,
}

/// Where the shadow checks are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Open-coded checks (`kasan cc`'s default).
    Inline,
    /// A runtime call per access (`kasan cc --outline`).
    Outline,
}

/// The stack ring of a sw-tags variant (`kasan.stack_ring=...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ring {
    /// `kasan.stack_ring=global`.
    Global,
    /// `kasan.stack_ring=percpu`.
    PerCpu,
}

impl Ring {
    /// The option's value.
    pub fn option_value(self) -> &'static str {
        match self {
            Ring::Global => "global",
            Ring::PerCpu => "percpu",
        }
    }
}

/// One way of building every test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variant {
    /// The compiler.
    pub compiler: Compiler,
    /// Inline or outline checks.
    pub mode: Mode,
    /// Generic KASAN (`None`) or sw-tags with this stack ring (`kasan cc
    /// --mode=sw-tags`, clang-19, outline; only `tags-*.c` files run there).
    pub tags: Option<Ring>,
}

impl Variant {
    /// Every variant, in the order they are reported: the four generic ones, then the
    /// two sw-tags ones.
    pub const ALL: [Variant; 6] = [
        Variant {
            compiler: Compiler::Gcc,
            mode: Mode::Inline,
            tags: None,
        },
        Variant {
            compiler: Compiler::Gcc,
            mode: Mode::Outline,
            tags: None,
        },
        Variant {
            compiler: Compiler::Clang,
            mode: Mode::Inline,
            tags: None,
        },
        Variant {
            compiler: Compiler::Clang,
            mode: Mode::Outline,
            tags: None,
        },
        Variant {
            compiler: Compiler::Clang,
            mode: Mode::Outline,
            tags: Some(Ring::Global),
        },
        Variant {
            compiler: Compiler::Clang,
            mode: Mode::Outline,
            tags: Some(Ring::PerCpu),
        },
    ];

    /// `gcc-inline`, `clang-outline`, ..., `clang-sw-tags-global`, `clang-sw-tags-percpu`.
    pub fn name(self) -> &'static str {
        match (self.compiler, self.mode, self.tags) {
            (_, _, Some(Ring::Global)) => "clang-sw-tags-global",
            (_, _, Some(Ring::PerCpu)) => "clang-sw-tags-percpu",
            (Compiler::Gcc, Mode::Inline, None) => "gcc-inline",
            (Compiler::Gcc, Mode::Outline, None) => "gcc-outline",
            (Compiler::Clang, Mode::Inline, None) => "clang-inline",
            (Compiler::Clang, Mode::Outline, None) => "clang-outline",
        }
    }

    /// Whether a test file runs in this variant at all: `tags-*.c` files only in the
    /// sw-tags variants, every other file only in the generic ones.
    pub fn runs_file(self, name: &str) -> bool {
        name.starts_with("tags-") == self.tags.is_some()
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A variant selector: `gcc`, `clang`, `inline`, `outline`, one variant's full name
/// such as `clang-outline`, or of the sw-tags variants `global` / `percpu` (the ring)
/// and `clang-sw-tags-global` / `clang-sw-tags-percpu`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Selector {
    compiler: Option<Compiler>,
    mode: Option<Mode>,
    ring: Option<Ring>,
}

impl Selector {
    /// Parses one selector word.
    pub fn parse(word: &str) -> Result<Selector, String> {
        let ring = match word {
            "global" | "clang-sw-tags-global" => Some(Ring::Global),
            "percpu" | "clang-sw-tags-percpu" => Some(Ring::PerCpu),
            _ => None,
        };
        if ring.is_some() {
            return Ok(Selector {
                compiler: None,
                mode: None,
                ring,
            });
        }
        let compiler = |w: &str| match w {
            "gcc" => Some(Compiler::Gcc),
            "clang" => Some(Compiler::Clang),
            _ => None,
        };
        let mode = |w: &str| match w {
            "inline" => Some(Mode::Inline),
            "outline" => Some(Mode::Outline),
            _ => None,
        };
        let sel = if let Some((c, m)) = word.split_once('-') {
            match (compiler(c), mode(m)) {
                (Some(c), Some(m)) => Some(Selector {
                    compiler: Some(c),
                    mode: Some(m),
                    ring: None,
                }),
                _ => None,
            }
        } else if let Some(c) = compiler(word) {
            Some(Selector {
                compiler: Some(c),
                mode: None,
                ring: None,
            })
        } else {
            mode(word).map(|m| Selector {
                compiler: None,
                mode: Some(m),
                ring: None,
            })
        };
        sel.ok_or_else(|| {
            format!(
                "unknown variant selector `{word}` (expected gcc, clang, inline, outline, \
                 gcc-inline, gcc-outline, clang-inline, clang-outline, global, percpu, \
                 clang-sw-tags-global or clang-sw-tags-percpu)"
            )
        })
    }

    /// Whether `v` is selected.
    pub fn matches(self, v: Variant) -> bool {
        self.compiler.is_none_or(|c| c == v.compiler)
            && self.mode.is_none_or(|m| m == v.mode)
            && self.ring.is_none_or(|r| Some(r) == v.tags)
    }
}

/// A comma-separated list of selectors: selects a variant if any item does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectorList(pub Vec<Selector>);

impl SelectorList {
    /// Parses `gcc,clang-outline`.
    pub fn parse(list: &str) -> Result<SelectorList, String> {
        let items: Result<Vec<_>, _> = list.split(',').map(|w| Selector::parse(w.trim())).collect();
        let items = items?;
        if items.is_empty() {
            return Err("empty variant selector list".into());
        }
        Ok(SelectorList(items))
    }

    /// Whether any item selects `v`.
    pub fn matches(&self, v: Variant) -> bool {
        self.0.iter().any(|s| s.matches(v))
    }
}

/// How the program must end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// `exit(n)` / return from main.
    Code(i32),
    /// Killed by this signal.
    Signal(i32),
}

/// Signal names the `EXIT:` directive knows (x86-64 Linux numbers).
pub const SIGNALS: [(&str, i32); 12] = [
    ("SIGHUP", 1),
    ("SIGINT", 2),
    ("SIGQUIT", 3),
    ("SIGILL", 4),
    ("SIGTRAP", 5),
    ("SIGABRT", 6),
    ("SIGBUS", 7),
    ("SIGFPE", 8),
    ("SIGKILL", 9),
    ("SIGSEGV", 11),
    ("SIGPIPE", 13),
    ("SIGTERM", 15),
];

impl Exit {
    /// Parses `0`, `3`, `SIGSEGV`.
    pub fn parse(s: &str) -> Result<Exit, String> {
        if let Ok(n) = s.parse::<i32>() {
            return Ok(Exit::Code(n));
        }
        SIGNALS
            .iter()
            .find(|(name, _)| *name == s)
            .map(|&(_, n)| Exit::Signal(n))
            .ok_or_else(|| format!("bad EXIT value `{s}`: a number or a signal name like SIGSEGV"))
    }
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Exit::Code(n) => write!(f, "exit status {n}"),
            Exit::Signal(n) => match SIGNALS.iter().find(|&&(_, s)| s == n) {
                Some((name, _)) => write!(f, "signal {name}"),
                None => write!(f, "signal {n}"),
            },
        }
    }
}

/// The kind of an output check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckKind {
    /// `CHECK:` a later line contains the pattern.
    Check,
    /// `CHECK-NEXT:` the line right after the previous match contains it.
    Next,
    /// `CHECK-NOT:` no line contains it.
    Not,
    /// `CHECK-SAME:` the line of the previous match contains it too (anywhere in it).
    Same,
}

impl CheckKind {
    /// The directive's spelling.
    pub fn keyword(self) -> &'static str {
        match self {
            CheckKind::Check => "CHECK",
            CheckKind::Next => "CHECK-NEXT",
            CheckKind::Not => "CHECK-NOT",
            CheckKind::Same => "CHECK-SAME",
        }
    }
}

/// One output check, after `FOR` expansion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// What kind.
    pub kind: CheckKind,
    /// The variants it applies to (`CHECK(sel,...):`); all when `None`.
    pub only: Option<SelectorList>,
    /// The pattern, before substitution of program variables.
    pub pattern: String,
    /// 1-based line in the test file.
    pub line: usize,
}

/// An `XFAIL` directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Xfail {
    /// The variants concerned; all when `None`.
    pub only: Option<SelectorList>,
    /// Why the runtime fails it.
    pub reason: String,
}

/// Everything a test file asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    /// Extra `kasan cc` arguments, after the defaults.
    pub run_args: Vec<String>,
    /// Environment of the program (`{tmpdir}` still unexpanded).
    pub env: Vec<(String, String)>,
    /// Every list must select a variant for it to be run, each with its reason.
    pub only: Vec<(SelectorList, String)>,
    /// Expected failures.
    pub xfail: Vec<Xfail>,
    /// How the program must end (`EXIT(sel):` for some variants); the last entry that
    /// applies wins, the default is `Exit::Code(0)`.
    pub exit: Vec<(Option<SelectorList>, Exit)>,
    /// How long it may run.
    pub timeout: Duration,
    /// Exact number of reports, the last entry that applies winning; with none, the
    /// number of `CHECK: BUG: KASAN:` lines.
    pub reports: Vec<(Option<SelectorList>, usize)>,
    /// Reports are read from this file in the test's temporary directory.
    pub log: Option<String>,
    /// `JSON-LINES: all`: every line of the checked output is one valid JSON object.
    pub json_lines: bool,
    /// The output checks, in file order.
    pub checks: Vec<Check>,
}

/// Default time limit of a test program.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The directive keywords, longest first where one is a prefix of another.
const KEYWORDS: [&str; 15] = [
    "CHECK-NEXT",
    "CHECK-NOT",
    "CHECK-SAME",
    "CHECK",
    "RUN",
    "ENV",
    "ONLY",
    "XFAIL",
    "EXIT",
    "TIMEOUT",
    "REPORTS",
    "LOG",
    "JSON-LINES",
    "FOR",
    "END-FOR",
];

/// A directive found on a line: keyword, optional `(selectors)`, value.
struct Directive<'a> {
    keyword: &'a str,
    arg: Option<&'a str>,
    value: &'a str,
}

/// Recognises `// KEYWORD: value` and `// KEYWORD(arg): value` at the start of a line.
/// Any other comment is ordinary text, except a `CHECK...` word that is not a known
/// directive, which is an error (a typo would otherwise silently check nothing).
fn directive(line: &str) -> Result<Option<Directive<'_>>, String> {
    let Some(rest) = line.trim_start().strip_prefix("//") else {
        return Ok(None);
    };
    let rest = rest.trim_start();
    let word_len = rest
        .find(|c: char| !(c.is_ascii_uppercase() || c == '-'))
        .unwrap_or(rest.len());
    let (word, after) = rest.split_at(word_len);
    let Some(&keyword) = KEYWORDS.iter().find(|&&k| k == word) else {
        if word.starts_with("CHECK") && after.starts_with(':') {
            return Err(format!("unknown directive `{word}:`"));
        }
        return Ok(None);
    };
    let (arg, after) = match after.strip_prefix('(') {
        Some(a) => match a.split_once(')') {
            Some((arg, after)) => (Some(arg), after),
            None => return Err(format!("`{keyword}(` without `)`")),
        },
        None => (None, after),
    };
    let Some(value) = after.strip_prefix(':') else {
        if keyword == "END-FOR" && after.trim().is_empty() {
            return Ok(Some(Directive {
                keyword,
                arg,
                value: "",
            }));
        }
        if keyword.starts_with("CHECK") || keyword == "XFAIL" || keyword == "ONLY" {
            return Err(format!("`{keyword}` must be followed by `:`"));
        }
        return Ok(None);
    };
    // One space after the colon separates; more are part of the value.
    let value = value.strip_prefix(' ').unwrap_or(value).trim_end();
    Ok(Some(Directive {
        keyword,
        arg,
        value,
    }))
}

/// Parses a `FOR:` header, `n=1..64` (inclusive bounds).
fn parse_for(value: &str) -> Result<(String, u64, u64), String> {
    let bad = || format!("bad FOR `{value}`: expected `name=FIRST..LAST`");
    let (name, range) = value.split_once('=').ok_or_else(bad)?;
    let (a, b) = range.split_once("..").ok_or_else(bad)?;
    let name = name.trim();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(bad());
    }
    let a: u64 = a.trim().parse().map_err(|_| bad())?;
    let b: u64 = b.trim().parse().map_err(|_| bad())?;
    if a > b {
        return Err(bad());
    }
    Ok((name.to_string(), a, b))
}

impl Spec {
    /// Parses the directives of a test file. Errors name the line.
    pub fn parse(source: &str) -> Result<Spec, String> {
        let mut spec = Spec {
            run_args: Vec::new(),
            env: Vec::new(),
            only: Vec::new(),
            xfail: Vec::new(),
            exit: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
            reports: Vec::new(),
            log: None,
            json_lines: false,
            checks: Vec::new(),
        };
        // An open FOR block: its variable, range, and the checks collected so far.
        let mut block: Option<(String, u64, u64, Vec<Check>, usize)> = None;
        for (i, line) in source.lines().enumerate() {
            let lineno = i + 1;
            let at = |e: String| format!("line {lineno}: {e}");
            let Some(d) = directive(line).map_err(at)? else {
                continue;
            };
            if d.arg.is_some()
                && !matches!(
                    d.keyword,
                    "XFAIL"
                        | "EXIT"
                        | "REPORTS"
                        | "CHECK"
                        | "CHECK-NEXT"
                        | "CHECK-NOT"
                        | "CHECK-SAME"
                )
            {
                return Err(at(format!("`{}` takes no `(...)`", d.keyword)));
            }
            let only = d.arg.map(SelectorList::parse).transpose().map_err(at)?;
            let check_kind = match d.keyword {
                "CHECK" => Some(CheckKind::Check),
                "CHECK-NEXT" => Some(CheckKind::Next),
                "CHECK-NOT" => Some(CheckKind::Not),
                "CHECK-SAME" => Some(CheckKind::Same),
                _ => None,
            };
            if let Some(kind) = check_kind {
                if d.value.is_empty() {
                    return Err(at(format!("empty {}", kind.keyword())));
                }
                let check = Check {
                    kind,
                    only,
                    pattern: d.value.to_string(),
                    line: lineno,
                };
                match &mut block {
                    Some((_, _, _, checks, _)) => checks.push(check),
                    None => spec.checks.push(check),
                }
                continue;
            }
            if block.is_some() && d.keyword != "END-FOR" {
                return Err(at(format!(
                    "only CHECK directives may be inside FOR, not {}",
                    d.keyword
                )));
            }
            match d.keyword {
                "RUN" => spec
                    .run_args
                    .extend(d.value.split_whitespace().map(String::from)),
                "ENV" => {
                    let (k, v) = d
                        .value
                        .split_once('=')
                        .ok_or_else(|| at(format!("ENV needs NAME=VALUE, got `{}`", d.value)))?;
                    spec.env.push((k.trim().to_string(), v.to_string()));
                }
                "ONLY" => {
                    let (list, reason) = match d.value.split_once(char::is_whitespace) {
                        Some((l, r)) => (l, r.trim()),
                        None => (d.value, ""),
                    };
                    spec.only
                        .push((SelectorList::parse(list).map_err(at)?, reason.to_string()));
                }
                "XFAIL" => {
                    if d.value.is_empty() {
                        return Err(at("XFAIL needs a reason".into()));
                    }
                    spec.xfail.push(Xfail {
                        only,
                        reason: d.value.to_string(),
                    });
                }
                "EXIT" => spec.exit.push((only, Exit::parse(d.value).map_err(at)?)),
                "TIMEOUT" => {
                    let secs: u64 = d
                        .value
                        .parse()
                        .map_err(|_| at(format!("TIMEOUT takes seconds, got `{}`", d.value)))?;
                    spec.timeout = Duration::from_secs(secs);
                }
                "REPORTS" => {
                    let n = d
                        .value
                        .parse()
                        .map_err(|_| at(format!("REPORTS takes a number, got `{}`", d.value)))?;
                    spec.reports.push((only, n));
                }
                "LOG" => {
                    if d.value.is_empty() || d.value.contains('/') {
                        return Err(at("LOG takes a plain file name".into()));
                    }
                    spec.log = Some(d.value.to_string());
                }
                "JSON-LINES" => {
                    if d.value != "all" {
                        return Err(at("JSON-LINES takes `all`".into()));
                    }
                    spec.json_lines = true;
                }
                "FOR" => {
                    let (name, a, b) = parse_for(d.value).map_err(at)?;
                    block = Some((name, a, b, Vec::new(), lineno));
                }
                "END-FOR" => {
                    let Some((name, a, b, checks, _)) = block.take() else {
                        return Err(at("END-FOR without FOR".into()));
                    };
                    let var = format!("{{{name}}}");
                    for n in a..=b {
                        for c in &checks {
                            spec.checks.push(Check {
                                kind: c.kind,
                                only: c.only.clone(),
                                pattern: c.pattern.replace(&var, &n.to_string()),
                                line: c.line,
                            });
                        }
                    }
                }
                _ => unreachable!("keyword list and match disagree"),
            }
        }
        if let Some((_, _, _, _, line)) = block {
            return Err(format!("line {line}: FOR without END-FOR"));
        }
        Ok(spec)
    }

    /// Whether the file runs in `v` (every `ONLY` selects it).
    pub fn runs_in(&self, v: Variant) -> bool {
        self.only.iter().all(|(list, _)| list.matches(v))
    }

    /// The reason `v` is expected to fail, if it is.
    pub fn xfail_reason(&self, v: Variant) -> Option<&str> {
        self.xfail
            .iter()
            .find(|x| x.only.as_ref().is_none_or(|l| l.matches(v)))
            .map(|x| x.reason.as_str())
    }

    /// The checks that apply in `v`, in file order.
    pub fn checks_for(&self, v: Variant) -> impl Iterator<Item = &Check> {
        self.checks
            .iter()
            .filter(move |c| c.only.as_ref().is_none_or(|l| l.matches(v)))
    }

    /// How the program must end in `v`.
    pub fn exit_for(&self, v: Variant) -> Exit {
        applying(&self.exit, v).unwrap_or(Exit::Code(0))
    }

    /// The number of reports expected in `v`: `REPORTS`, or the number of
    /// `CHECK: BUG: KASAN:` (or `CHECK-NEXT: BUG: KASAN:`) lines that apply.
    pub fn expected_reports(&self, v: Variant) -> usize {
        applying(&self.reports, v).unwrap_or_else(|| {
            self.checks_for(v)
                .filter(|c| {
                    matches!(c.kind, CheckKind::Check | CheckKind::Next)
                        && c.pattern.starts_with("BUG: KASAN:")
                })
                .count()
        })
    }

    /// A clean program (in `v`): no positive checks and no reports expected. Its output
    /// must not mention KASAN at all.
    pub fn is_clean(&self, v: Variant) -> bool {
        self.expected_reports(v) == 0 && self.checks_for(v).all(|c| c.kind == CheckKind::Not)
    }
}

/// The value of the last entry that applies to `v`.
fn applying<T: Copy>(entries: &[(Option<SelectorList>, T)], v: Variant) -> Option<T> {
    entries
        .iter()
        .rev()
        .find(|(only, _)| only.as_ref().is_none_or(|l| l.matches(v)))
        .map(|&(_, x)| x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_directives() {
        let src = "\
// RUN: -O0 -DX=1
// ENV: KASAN_OPTIONS=kasan_multi_shot kasan.log_path={tmpdir}/log
// ONLY: outline inline checks see only the first granule
// XFAIL(clang-inline,gcc): runtime bug
// EXIT: SIGSEGV
// TIMEOUT: 5
int main(void) {
    // CHECK: BUG: KASAN: slab-out-of-bounds in f+
    // CHECK-NEXT:  f+0x
    // CHECK-NOT: Freed by task
    // BUG: ordinary comment
}
";
        let s = Spec::parse(src).unwrap();
        assert_eq!(s.run_args, ["-O0", "-DX=1"]);
        assert_eq!(
            s.env,
            [(
                "KASAN_OPTIONS".to_string(),
                "kasan_multi_shot kasan.log_path={tmpdir}/log".into()
            )]
        );
        assert_eq!(s.only.len(), 1);
        assert_eq!(s.only[0].1, "inline checks see only the first granule");
        assert!(s.runs_in(Variant::ALL[1]) && !s.runs_in(Variant::ALL[0]));
        assert_eq!(s.xfail_reason(Variant::ALL[2]), Some("runtime bug"));
        assert_eq!(s.xfail_reason(Variant::ALL[0]), Some("runtime bug"));
        assert_eq!(s.xfail_reason(Variant::ALL[3]), None);
        assert_eq!(s.exit_for(Variant::ALL[0]), Exit::Signal(11));
        assert_eq!(s.timeout, Duration::from_secs(5));
        assert_eq!(s.checks.len(), 3);
        assert_eq!(s.checks[1].pattern, " f+0x");
        assert_eq!(s.checks[1].line, 9);
        assert_eq!(s.expected_reports(Variant::ALL[0]), 1);
        assert!(!s.is_clean(Variant::ALL[0]));
    }

    #[test]
    fn sw_tags_variants_and_their_selectors() {
        let [gi, _, ci, co, tg, tp] = Variant::ALL;
        assert_eq!(tg.name(), "clang-sw-tags-global");
        assert_eq!(tp.name(), "clang-sw-tags-percpu");
        assert!(tg.runs_file("tags-uaf.c") && tp.runs_file("tags-uaf.c"));
        assert!(!tg.runs_file("uaf.c") && !gi.runs_file("tags-uaf.c") && gi.runs_file("uaf.c"));
        let l = SelectorList::parse("percpu").unwrap();
        assert!(l.matches(tp) && !l.matches(tg) && !l.matches(co));
        let l = SelectorList::parse("clang-sw-tags-global").unwrap();
        assert!(l.matches(tg) && !l.matches(tp));
        // The sw-tags variants are clang and outline builds.
        assert!(SelectorList::parse("clang").unwrap().matches(tg));
        assert!(!SelectorList::parse("inline").unwrap().matches(tp));
        assert!(!SelectorList::parse("global").unwrap().matches(ci));
    }

    #[test]
    fn expands_for_blocks() {
        let src =
            "// FOR: n=1..3\n// CHECK: BUG: KASAN: x\n// CHECK-NEXT: at {p{n}+{n}}\n// END-FOR\n";
        let s = Spec::parse(src).unwrap();
        assert_eq!(s.checks.len(), 6);
        assert_eq!(s.checks[5].pattern, "at {p3+3}");
        assert_eq!(s.expected_reports(Variant::ALL[0]), 3);
    }

    #[test]
    fn per_variant_directives() {
        let src = "\
// EXIT: SIGSEGV
// EXIT(outline): 0
// CHECK(inline): general protection fault
// CHECK(outline): BUG: KASAN: wild-memory-access in f+
// CHECK: end
// REPORTS(clang-inline): 7
";
        let s = Spec::parse(src).unwrap();
        let [gi, go, ci, co, _, _] = Variant::ALL;
        assert_eq!(s.exit_for(gi), Exit::Signal(11));
        assert_eq!(s.exit_for(co), Exit::Code(0));
        assert_eq!(s.checks_for(gi).count(), 2);
        assert_eq!(s.checks_for(go).map(|c| c.line).collect::<Vec<_>>(), [4, 5]);
        assert_eq!(s.expected_reports(gi), 0);
        assert_eq!(s.expected_reports(go), 1);
        assert_eq!(s.expected_reports(ci), 7);
        assert!(Spec::parse("// RUN(gcc): -O0\n").is_err());
    }

    #[test]
    fn clean_and_errors() {
        assert!(Spec::parse("int main(void) { return 0; }\n")
            .unwrap()
            .is_clean(Variant::ALL[0]));
        assert!(Spec::parse("// CHECK-NXT: x\n").is_err());
        assert!(Spec::parse("// CHECK x\n").is_err());
        assert!(Spec::parse("// ONLY: icc\n").is_err());
        assert!(Spec::parse("// EXIT: SIGFOO\n").is_err());
        assert!(Spec::parse("// FOR: n=1..2\n// CHECK: x\n").is_err());
        assert!(Spec::parse("// FOR: n=1..2\n// EXIT: 1\n// END-FOR\n").is_err());
        assert!(Spec::parse("// XFAIL:\n").is_err());
        // Not directives: other words, no colon.
        assert!(Spec::parse("// NOTE: x\n// RUNNING\n")
            .unwrap()
            .checks
            .is_empty());
    }
}
