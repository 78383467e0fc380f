//! Patterns: substitution of `{...}` placeholders and line matching, and the
//! evaluation of a test's checks against its output.

use std::collections::BTreeMap;

use crate::spec::{CheckKind, Spec, Variant};

/// A value the program printed as `KASAN-TEST name=value` on standard output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `0x...`: an address, substituted as 16 zero-padded lower-case hex digits.
    Addr(u64),
    /// Decimal digits: a number, substituted in decimal.
    Num(u64),
    /// Anything else, substituted verbatim (no arithmetic).
    Text(String),
}

impl Value {
    fn parse(s: &str) -> Value {
        if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
            if let Ok(v) = u64::from_str_radix(hex, 16) {
                return Value::Addr(v);
            }
        }
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            if let Ok(v) = s.parse() {
                return Value::Num(v);
            }
        }
        Value::Text(s.to_string())
    }
}

/// The marker of variable lines on the program's standard output.
pub const VAR_PREFIX: &str = "KASAN-TEST ";

/// Everything placeholders can refer to.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    /// Program variables and the built-ins (`pid`, `comm`, `tmpdir`).
    pub values: BTreeMap<String, Value>,
    /// The memory dump has tag-mode geometry: 16-byte granules, rows of 256 bytes
    /// (sw-tags variants); otherwise generic's 8 and 128.
    pub tag_granules: bool,
}

impl Vars {
    /// Collects the `KASAN-TEST name=value` lines of `stdout`. A name printed twice
    /// with different values is an error.
    pub fn from_stdout(stdout: &str) -> Result<Vars, String> {
        let mut vars = Vars::default();
        for line in stdout.lines() {
            let Some(rest) = line.strip_prefix(VAR_PREFIX) else {
                continue;
            };
            let Some((name, value)) = rest.split_once('=') else {
                return Err(format!("malformed variable line `{line}`"));
            };
            let name = name.trim();
            if !is_ident(name) {
                return Err(format!("bad variable name in `{line}`"));
            }
            let value = Value::parse(value.trim());
            if let Some(old) = vars.values.get(name) {
                if *old != value {
                    return Err(format!(
                        "variable `{name}` printed twice with different values"
                    ));
                }
            }
            vars.values.insert(name.to_string(), value);
        }
        Ok(vars)
    }

    /// Sets a built-in (overrides what the program printed).
    pub fn set(&mut self, name: &str, value: Value) {
        self.values.insert(name.to_string(), value);
    }
}

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Formats an address as the reports do (`%px`): 16 lower-case hex digits.
pub fn fmt_addr(a: u64) -> String {
    format!("{a:016x}")
}

impl Vars {
    /// Bytes of memory per shadow byte in the report's memory dump.
    fn granule(&self) -> u64 {
        if self.tag_granules {
            16
        } else {
            8
        }
    }

    /// Bytes of memory per row of the dump (16 granules).
    fn row_bytes(&self) -> u64 {
        16 * self.granule()
    }
}

/// Evaluates `name`, `name+N` or `name-N` (N decimal or 0x hex).
fn eval(expr: &str, vars: &Vars) -> Result<Value, String> {
    let split = expr.find(['+', '-']).unwrap_or(expr.len());
    let (name, off) = expr.split_at(split);
    let value = vars.values.get(name).ok_or_else(|| {
        format!("unknown variable `{name}` (did the program print `{VAR_PREFIX}{name}=...`?)")
    })?;
    if off.is_empty() {
        return Ok(value.clone());
    }
    let (neg, digits) = (off.starts_with('-'), &off[1..]);
    let n = match digits.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => digits.parse(),
    }
    .map_err(|_| format!("bad offset in `{{{expr}}}`"))?;
    let apply = |v: u64| {
        if neg {
            v.wrapping_sub(n)
        } else {
            v.wrapping_add(n)
        }
    };
    match value {
        Value::Addr(v) => Ok(Value::Addr(apply(*v))),
        Value::Num(v) => Ok(Value::Num(apply(*v))),
        Value::Text(_) => Err(format!("arithmetic on text variable in `{{{expr}}}`")),
    }
}

fn eval_addr(expr: &str, vars: &Vars) -> Result<u64, String> {
    match eval(expr, vars)? {
        Value::Addr(a) => Ok(a),
        _ => Err(format!("`{expr}` is not an address (print it as 0x...)")),
    }
}

/// Whether `{content}` is a placeholder (otherwise the braces are literal text, as in
/// JSON).
fn is_placeholder(content: &str) -> bool {
    if matches!(content, "*" | "^" | "$") {
        return true;
    }
    let expr = ["row:", "caret:", "hex:", "x2:"]
        .iter()
        .find_map(|p| content.strip_prefix(p))
        .unwrap_or(content);
    let name_end = expr.find(['+', '-']).unwrap_or(expr.len());
    let (name, off) = expr.split_at(name_end);
    is_ident(name)
        && (off.is_empty()
            || (off.len() > 1 && off[1..].chars().all(|c| c.is_ascii_alphanumeric())))
}

/// A pattern with its placeholders substituted: literal pieces separated by `{*}`,
/// optionally anchored at the start (`{^}`) and end (`{$}`) of the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matcher {
    pieces: Vec<String>,
    start: bool,
    end: bool,
}

impl Matcher {
    /// Substitutes the placeholders of `pattern`:
    ///
    /// - `{name}`, `{name+N}`, `{name-N}`: a variable (addresses as 16 hex digits);
    /// - `{hex:EXPR}`: EXPR as `0x` and minimal lower-case hex digits (JSON reports);
    /// - `{x2:EXPR}`: EXPR as two lower-case hex digits, as tags print (`%02x`);
    /// - `{row:EXPR}`: the address of the memory-dump row holding EXPR (rounded down to
    ///   128 bytes; 256 in sw-tags variants);
    /// - `{caret:EXPR}`: the whole caret line that points at the granule of EXPR in its
    ///   row (must be the entire pattern);
    /// - `{*}`: any text; `{^}` / `{$}`: the start / end of the line.
    pub fn new(pattern: &str, vars: &Vars) -> Result<Matcher, String> {
        let mut m = Matcher {
            pieces: vec![String::new()],
            start: false,
            end: false,
        };
        let mut rest = pattern;
        while let Some(open) = rest.find('{') {
            let at_start = rest.len() == pattern.len() && open == 0;
            let close = rest[open..].find('}').map(|c| open + c);
            let content = close.map(|c| &rest[open + 1..c]);
            let Some((close, content)) = close.zip(content).filter(|(_, c)| is_placeholder(c))
            else {
                m.push(&rest[..=open]);
                rest = &rest[open + 1..];
                continue;
            };
            m.push(&rest[..open]);
            rest = &rest[close + 1..];
            match content {
                "*" => m.pieces.push(String::new()),
                "^" if at_start => m.start = true,
                "^" => return Err(format!("`{{^}}` not at the start of `{pattern}`")),
                "$" if rest.is_empty() => m.end = true,
                "$" => return Err(format!("`{{$}}` not at the end of `{pattern}`")),
                _ => {
                    if let Some(expr) = content.strip_prefix("x2:") {
                        match eval(expr, vars)? {
                            Value::Addr(a) | Value::Num(a) => m.push(&format!("{a:02x}")),
                            Value::Text(_) => {
                                return Err(format!("`{expr}` is text, not a number"))
                            }
                        }
                    } else if let Some(expr) = content.strip_prefix("hex:") {
                        match eval(expr, vars)? {
                            Value::Addr(a) | Value::Num(a) => m.push(&format!("{a:#x}")),
                            Value::Text(_) => {
                                return Err(format!("`{expr}` is text, not a number"))
                            }
                        }
                    } else if let Some(expr) = content.strip_prefix("row:") {
                        m.push(&fmt_addr(eval_addr(expr, vars)? & !(vars.row_bytes() - 1)));
                    } else if let Some(expr) = content.strip_prefix("caret:") {
                        if pattern != format!("{{{content}}}") {
                            return Err(format!(
                                "`{{caret:...}}` must be the whole pattern: `{pattern}`"
                            ));
                        }
                        let a = eval_addr(expr, vars)?;
                        let granule = (a % vars.row_bytes()) / vars.granule();
                        // The caret sits under the granule's first hex digit: column
                        // 20 + 3 * granule (1-based) after ">%016x: ".
                        let line = format!("{}^", " ".repeat(19 + 3 * granule as usize));
                        return Ok(Matcher {
                            pieces: vec![line],
                            start: true,
                            end: true,
                        });
                    } else {
                        match eval(content, vars)? {
                            Value::Addr(a) => m.push(&fmt_addr(a)),
                            Value::Num(n) => m.push(&n.to_string()),
                            Value::Text(t) => m.push(&t),
                        }
                    }
                }
            }
        }
        m.push(rest);
        Ok(m)
    }

    fn push(&mut self, s: &str) {
        self.pieces.last_mut().expect("never empty").push_str(s);
    }

    /// Whether `line` matches.
    pub fn matches(&self, line: &str) -> bool {
        let n = self.pieces.len();
        let mut pos = 0;
        for (i, piece) in self.pieces.iter().enumerate() {
            let last = i + 1 == n;
            if i == 0 && self.start {
                if !line.starts_with(piece.as_str()) {
                    return false;
                }
                pos = piece.len();
                if last && self.end {
                    return line.len() == piece.len();
                }
                continue;
            }
            if last && self.end {
                return line.len() >= pos + piece.len() && line.ends_with(piece.as_str());
            }
            match line[pos..].find(piece.as_str()) {
                Some(at) => pos += at + piece.len(),
                None => return false,
            }
        }
        true
    }
}

/// Whether a line is the first line of a report: a text header or a JSON object.
pub fn is_report_line(line: &str) -> bool {
    line.starts_with("BUG: KASAN:") || (line.starts_with('{') && line.contains("\"bug_type\""))
}

/// Evaluates the spec's checks on `text` (standard error, or the log file); returns
/// the problems found, each a sentence.
pub fn evaluate(spec: &Spec, v: Variant, text: &str, vars: &Vars, file: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    // Index of the line the previous CHECK/CHECK-NEXT matched, and where the next
    // CHECK starts searching.
    let mut last: Option<usize> = None;
    let mut next = 0;
    let mut ordered_failed = false;
    for c in spec.checks_for(v) {
        let what = format!("{file}:{}: {}: {}", c.line, c.kind.keyword(), c.pattern);
        let m = match Matcher::new(&c.pattern, vars) {
            Ok(m) => m,
            Err(e) => {
                problems.push(format!("{what}\n      cannot expand: {e}"));
                if c.kind != CheckKind::Not {
                    ordered_failed = true;
                }
                continue;
            }
        };
        match c.kind {
            CheckKind::Not => {
                if let Some(i) = lines.iter().position(|l| m.matches(l)) {
                    problems.push(format!(
                        "{what}\n      found at output line {}: {}",
                        i + 1,
                        lines[i]
                    ));
                }
            }
            // After a failed ordered check the position is meaningless: the later ones
            // are not reported (they would all fail too).
            _ if ordered_failed => {}
            CheckKind::Check => match lines[next..].iter().position(|l| m.matches(l)) {
                Some(i) => {
                    last = Some(next + i);
                    next += i + 1;
                }
                None => {
                    ordered_failed = true;
                    let from = match last {
                        Some(l) => format!("after output line {}", l + 1),
                        None => "anywhere".into(),
                    };
                    problems.push(format!("{what}\n      not found {from}"));
                }
            },
            CheckKind::Same => {
                let Some(l) = last else {
                    ordered_failed = true;
                    problems.push(format!("{what}\n      CHECK-SAME with no CHECK before it"));
                    continue;
                };
                // Anywhere in the line: an ordering of fields (JSON) is not checked.
                if !m.matches(lines[l]) {
                    problems.push(format!(
                        "{what}\n      not in output line {}: {}",
                        l + 1,
                        lines[l]
                    ));
                }
            }
            CheckKind::Next => {
                let Some(l) = last else {
                    ordered_failed = true;
                    problems.push(format!("{what}\n      CHECK-NEXT with no CHECK before it"));
                    continue;
                };
                match lines.get(l + 1) {
                    Some(line) if m.matches(line) => {
                        last = Some(l + 1);
                        next = l + 2;
                    }
                    other => {
                        ordered_failed = true;
                        problems.push(format!(
                            "{what}\n      output line {} is: {}",
                            l + 2,
                            other.copied().unwrap_or("<end of output>")
                        ));
                    }
                }
            }
        }
    }
    let reports = lines.iter().filter(|l| is_report_line(l)).count();
    let expected = spec.expected_reports(v);
    if reports != expected {
        problems.push(format!("expected {expected} report(s), got {reports}"));
    }
    if spec.is_clean(v) {
        if let Some((i, l)) = lines.iter().enumerate().find(|(_, l)| l.contains("KASAN")) {
            problems.push(format!(
                "a clean program's output mentions KASAN (output line {}): {l}",
                i + 1
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    const V: Variant = Variant::ALL[0];

    fn vars() -> Vars {
        let mut v = Vars::from_stdout(
            "hello\nKASAN-TEST p=0x7f0000001008\nKASAN-TEST n=13\nKASAN-TEST who=task\n",
        )
        .unwrap();
        v.set("pid", Value::Num(4242));
        v
    }

    #[test]
    fn substitutes() {
        let v = vars();
        let m = Matcher::new("at addr {p+5} by {who}/{pid} n={n-3} {p-0x8}", &v).unwrap();
        assert_eq!(
            m.pieces,
            ["at addr 00007f000000100d by task/4242 n=10 00007f0000001000"]
        );
        assert_eq!(
            Matcher::new(">{row:p}: ", &v).unwrap().pieces,
            [">00007f0000001000: "]
        );
        assert_eq!(
            Matcher::new("\"{hex:p+1}\" {hex:n}", &v).unwrap().pieces,
            ["\"0x7f0000001009\" 0xd"]
        );
        assert!(Matcher::new("{q}", &v).is_err());
        assert!(Matcher::new("{who+1}", &v).is_err());
        // Not placeholders: JSON and empty braces stay literal.
        let m = Matcher::new("{\"bug_type\":\"x\"} {} {a b}", &v).unwrap();
        assert_eq!(m.pieces, ["{\"bug_type\":\"x\"} {} {a b}"]);
    }

    #[test]
    fn two_hex_digits() {
        let v = Vars::from_stdout("KASAN-TEST t=5\nKASAN-TEST u=13\n").unwrap();
        assert_eq!(
            Matcher::new("[{x2:t}] {x2:u}", &v).unwrap().pieces,
            ["[05] 0d"]
        );
    }

    #[test]
    fn tag_geometry_rows_and_carets() {
        let mut v = Vars::from_stdout("KASAN-TEST p=0x1000000040\n").unwrap();
        v.tag_granules = true;
        assert_eq!(
            Matcher::new(">{row:p+0x110}: ", &v).unwrap().pieces,
            [">0000001000000100: "]
        );
        // p + 0x30 is granule 7 of the row at p - 0x40: column 20 + 21.
        let m = Matcher::new("{caret:p+0x30}", &v).unwrap();
        assert!(m.matches(&format!("{}^", " ".repeat(19 + 21))));
        assert!(!m.matches(&format!("{}^", " ".repeat(19 + 3 * 14))));
    }

    #[test]
    fn caret() {
        let v = vars();
        let m = Matcher::new("{caret:p+5}", &v).unwrap();
        // p + 5 is in granule 1 of its row: column 23.
        assert!(m.matches(&format!("{}^", " ".repeat(22))));
        assert!(!m.matches(&format!("{}^", " ".repeat(23))));
        assert!(!m.matches(&format!("{}^ ", " ".repeat(22))));
        assert!(Matcher::new("x {caret:p}", &v).is_err());
    }

    #[test]
    fn globs_and_anchors() {
        let v = Vars::default();
        let m = Matcher::new("[{*}, {*}) 'array'", &v).unwrap();
        assert!(m.matches(" [32, 72) 'array'"));
        assert!(!m.matches(" [32 72) 'array'"));
        let m = Matcher::new("{^}abc{*}xyz{$}", &v).unwrap();
        assert!(m.matches("abc-xyz") && m.matches("abcxyz"));
        assert!(!m.matches(" abcxyz") && !m.matches("abcxyz "));
        let m = Matcher::new("{^}aa{$}", &v).unwrap();
        assert!(m.matches("aa") && !m.matches("aaa"));
        let m = Matcher::new("aba{$}", &v).unwrap();
        assert!(m.matches("xaba") && !m.matches("abax"));
        assert!(Matcher::new("a{^}", &v).is_err());
        assert!(Matcher::new("{$}a", &v).is_err());
    }

    #[test]
    fn evaluates_in_order() {
        let spec = Spec::parse(
            "// CHECK: BUG: KASAN: x in f+\n// CHECK-NEXT: Read of size 1 at addr {p}\n\
             // CHECK: located 0 bytes\n// CHECK-NOT: Freed by\n",
        )
        .unwrap();
        let mut v = vars();
        v.set("p", Value::Addr(16));
        let good = "====\nBUG: KASAN: x in f+0x1/0x2\nRead of size 1 at addr 0000000000000010 by\n\nlocated 0 bytes\n";
        assert!(evaluate(&spec, V, good, &v, "t.c").is_empty());
        let bad = "BUG: KASAN: x in f+0x1/0x2\n\nRead of size 1 at addr 0000000000000010\nFreed by\nBUG: KASAN: y\n";
        let p = evaluate(&spec, V, bad, &v, "t.c");
        assert_eq!(p.len(), 3, "{p:#?}");
        assert!(p[0].contains("t.c:2: CHECK-NEXT"));
        assert!(p[1].contains("CHECK-NOT"));
        assert!(p[2].contains("expected 1 report(s), got 2"));
    }

    #[test]
    fn check_same_is_unordered_within_the_line() {
        let spec = Spec::parse(
            "// CHECK: {\"mode\"\n// CHECK-SAME: \"b\":2\n// CHECK-SAME: \"a\":1\n// CHECK-SAME: \"c\":3\n",
        )
        .unwrap();
        let p = evaluate(
            &spec,
            V,
            "{\"mode\":0,\"a\":1,\"b\":2}\n",
            &Vars::default(),
            "t.c",
        );
        assert_eq!(p.len(), 1, "{p:#?}");
        assert!(p[0].contains("t.c:4: CHECK-SAME: \"c\":3"));
    }

    #[test]
    fn clean_programs() {
        let spec = Spec::parse("int main(void) { return 0; }\n").unwrap();
        let v = Vars::default();
        assert!(evaluate(&spec, V, "hello\n", &v, "t.c").is_empty());
        assert_eq!(
            evaluate(&spec, V, "kasan: KASAN_OPTIONS: bad\n", &v, "t.c").len(),
            1
        );
    }

    #[test]
    fn variables() {
        assert!(Vars::from_stdout("KASAN-TEST a=1\nKASAN-TEST a=2\n").is_err());
        assert!(Vars::from_stdout("KASAN-TEST a=1\nKASAN-TEST a=1\n").is_ok());
        assert!(Vars::from_stdout("KASAN-TEST 1a=1\n").is_err());
    }
}
