//! Run-time configuration in Linux boot-parameter syntax, for every mode.
//!
//! One declarative table, [`OPTIONS`], names each parameter with its type, default and
//! help text; `kasan options` prints it and [`Config::parse`] applies it. Parameters are
//! separated by spaces or commas: `kasan_multi_shot kasan.fault=panic,kasan.stacktrace=off`.
//! Linux's parameters keep their Linux meaning; ours live under `kasan.` too.
//!
//! Parsing never allocates: the one string value (`kasan.log_path`) is copied into a
//! fixed buffer, so the hosted runtime can parse `KASAN_OPTIONS` before any heap exists.
//!
//! The input is bytes, as the environment holds them. As a kernel treats its command
//! line, each unknown or malformed parameter (one with bytes that are not UTF-8 is
//! malformed like any other) is reported and skipped, and every valid one applies, later
//! ones over earlier ones. A value is read up to [`OPTIONS_MAX`] bytes; beyond that the
//! parameters complete within the limit apply and one error names the limit. Errors
//! display the parameter escaped (`\xNN` for bytes that are not printable UTF-8) and cut
//! to a bounded length, so every error is one short line however long the input.

use core::fmt::{self, Write as _};

/// What values a parameter takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A bare word (`kasan_multi_shot`); `=on`/`=off` is accepted too.
    Flag,
    /// `on`/`off` (also `1`/`0`, `y`/`n`, `true`/`false`).
    Bool,
    /// An unsigned integer (decimal, or hex with `0x`) in `[min, max]`.
    Int {
        /// Smallest accepted value.
        min: u64,
        /// Largest accepted value.
        max: u64,
    },
    /// A byte count with an optional `K`, `M` or `G` suffix, as Linux's `memparse`.
    Size,
    /// One word out of a fixed list.
    Choice(&'static [&'static str]),
    /// A file path.
    Path,
}

impl Kind {
    /// The value syntax, as shown by `kasan options` and in error messages.
    pub fn syntax(&self) -> &'static str {
        match self {
            Kind::Flag => "(flag)",
            Kind::Bool => "on|off",
            Kind::Int { .. } => "<integer>",
            Kind::Size => "<bytes>[K|M|G]",
            Kind::Choice(words) => match *words {
                ["report", "panic", "panic_on_write"] => "report|panic|panic_on_write",
                ["text", "json"] => "text|json",
                ["sync", "async", "asymm"] => "sync|async|asymm",
                ["global", "percpu"] => "global|percpu",
                ["on-demand", "always"] => "on-demand|always",
                _ => "<word>",
            },
            Kind::Path => "<path>",
        }
    }

    /// The error for a value that does not fit: what was expected.
    fn expected(&self) -> ErrorKind {
        match self {
            Kind::Path => ErrorKind::Malformed(PATH_EXPECTED),
            kind => ErrorKind::Malformed(kind.syntax()),
        }
    }
}

/// Parameters are separated by commas and ASCII white space.
fn is_separator(b: u8) -> bool {
    b == b',' || b.is_ascii_whitespace()
}

/// One row of the option table.
#[derive(Debug, Clone, Copy)]
pub struct OptionSpec {
    /// The parameter's name, exactly as written in `KASAN_OPTIONS`.
    pub name: &'static str,
    /// Its value type.
    pub kind: Kind,
    /// The default, written in the parameter's own syntax (`""` for none).
    pub default: &'static str,
    /// Which modes read it.
    pub modes: &'static str,
    /// One line of help.
    pub help: &'static str,
}

const ON_OFF: Kind = Kind::Bool;

/// Every parameter the runtime understands.
pub static OPTIONS: &[OptionSpec] = &[
    OptionSpec {
        name: "kasan",
        kind: ON_OFF,
        default: "on",
        modes: "all",
        help: "kasan=off turns every check and report off (allocations still work)",
    },
    OptionSpec {
        name: "kasan_multi_shot",
        kind: Kind::Flag,
        default: "off",
        modes: "all",
        help: "report every bug, not only the first one",
    },
    OptionSpec {
        name: "kasan.fault",
        kind: Kind::Choice(&["report", "panic", "panic_on_write"]),
        default: "report",
        modes: "all",
        help: "after a report: go on, abort, or abort only when the bad access was a write (or a free)",
    },
    OptionSpec {
        name: "panic_on_warn",
        kind: Kind::Flag,
        default: "off",
        modes: "all",
        help: "abort after the first report unless kasan_multi_shot is set (Linux's panic_on_warn)",
    },
    OptionSpec {
        name: "kasan.stacktrace",
        kind: ON_OFF,
        default: "on",
        modes: "all",
        help: "collect alloc/free stack traces",
    },
    OptionSpec {
        name: "kasan.stack_depth",
        kind: Kind::Int { min: 1, max: 256 },
        default: "64",
        modes: "all",
        help: "frames kept per saved stack",
    },
    OptionSpec {
        name: "kasan.stack_ring_size",
        kind: Kind::Int {
            min: 1,
            max: 1 << 24,
        },
        default: "32768",
        modes: "sw-tags",
        help: "entries in the stack ring of the tag-based modes",
    },
    OptionSpec {
        name: "kasan.stack_ring",
        kind: Kind::Choice(&["global", "percpu"]),
        default: "percpu",
        modes: "sw-tags",
        help: "global: one ring, as Linux; percpu: one ring per CPU, merged by timestamp at report time",
    },
    OptionSpec {
        name: "kasan.stack_depot_size",
        kind: Kind::Size,
        default: "128M",
        modes: "all",
        help: "cap on the stack depot's memory; saves fail cleanly beyond it",
    },
    OptionSpec {
        name: "kasan.quarantine_size",
        kind: Kind::Size,
        default: "",
        modes: "generic",
        help: "bytes of freed objects held back from reuse (default: 1/32 of RAM, at most 128M)",
    },
    OptionSpec {
        name: "kasan.quarantine_live_percent",
        kind: Kind::Int { min: 0, max: 10000 },
        default: "50",
        modes: "generic",
        help: "the quarantine also holds at most this percentage of the live heap (0: no such bound)",
    },
    OptionSpec {
        name: "kasan.quarantine_floor",
        kind: Kind::Size,
        default: "24M",
        modes: "generic",
        help: "the live-heap bound never goes below this (small programs still catch late use-after-free)",
    },
    OptionSpec {
        name: "kasan.vmalloc",
        kind: ON_OFF,
        default: "on",
        modes: "all",
        help: "check vmalloc memory",
    },
    OptionSpec {
        name: "kasan.slub_rcu_debug",
        kind: ON_OFF,
        default: "on",
        modes: "all",
        help: "defer frees of SLAB_TYPESAFE_BY_RCU objects past a grace period and check them then (Linux's CONFIG_SLUB_RCU_DEBUG)",
    },
    OptionSpec {
        name: "kasan.page_alloc.sample",
        kind: Kind::Int {
            min: 1,
            max: i64::MAX as u64,
        },
        default: "1",
        modes: "tags",
        help: "poison one in N page allocations of at least the sampled order",
    },
    OptionSpec {
        name: "kasan.page_alloc.sample.order",
        kind: Kind::Int { min: 0, max: 63 },
        default: "3",
        modes: "tags",
        help: "smallest page order affected by kasan.page_alloc.sample",
    },
    OptionSpec {
        name: "kasan.extra_info",
        kind: ON_OFF,
        default: "off",
        modes: "all",
        help: "record the CPU and a timestamp with every alloc/free track",
    },
    OptionSpec {
        name: "kasan.report_format",
        kind: Kind::Choice(&["text", "json"]),
        default: "text",
        modes: "all",
        help: "text: Linux's report layout; json: one JSON object per report, one per line",
    },
    OptionSpec {
        name: "kasan.log_path",
        kind: Kind::Path,
        default: "",
        modes: "all",
        help: "append reports to this file instead of standard error",
    },
    OptionSpec {
        name: "kasan.stats",
        kind: ON_OFF,
        default: "off",
        modes: "all",
        help: "print one line of runtime statistics at exit",
    },
];

/// Parameters the runtime accepts but `kasan options` does not list: switches for
/// benchmarks and tests, not for users.
pub static HIDDEN_OPTIONS: &[OptionSpec] = &[
    OptionSpec {
        name: "kasan.stack_ring_evict",
        kind: ON_OFF,
        default: "on",
        modes: "sw-tags",
        help: "put an overwritten ring entry's stack back to the depot (off: persistent stacks, for the depot-memory benchmark)",
    },
    OptionSpec {
        name: "kasan.vmalloc_shadow",
        kind: Kind::Choice(&["on-demand", "always"]),
        default: "on-demand",
        modes: "all",
        help: "on-demand: the vmalloc space's shadow is populated per area and released lazily; always: mapped once, never released (for the test_vmalloc benchmark)",
    },
    OptionSpec {
        name: "kasan.shadow_share",
        kind: ON_OFF,
        default: "on",
        modes: "generic",
        help: "map whole shadow pages of big uniform ranges to shared pages (off: write them, the flat shadow; for before/after measurements)",
    },
];

/// Which stack ring the tag modes keep (`kasan.stack_ring`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StackRing {
    /// One ring with one shared position, Linux's.
    Global,
    /// One ring per CPU, ordered by timestamp when a report merges them.
    PerCpu,
}

/// What to do after a report (`kasan.fault`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Print and go on.
    Report,
    /// Print and abort.
    Panic,
    /// Abort only after a write or free report.
    PanicOnWrite,
}

/// How reports are written (`kasan.report_format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Linux's layout.
    Text,
    /// One JSON object per line.
    Json,
}

/// Longest `kasan.log_path` accepted, plus one (room for the NUL of `open`).
pub const PATH_MAX: usize = 256;

/// Longest `KASAN_OPTIONS` value read: 64 KiB. Parameters complete within the first
/// `OPTIONS_MAX` bytes of a longer value apply; the rest is an [`ErrorKind::OverLimit`].
pub const OPTIONS_MAX: usize = 64 * 1024;

/// What a `kasan.log_path` value must be.
const PATH_EXPECTED: &str = "<path> of at most 255 bytes of UTF-8";

/// Most bytes of a parameter shown in an error, escapes included; a longer one is cut
/// there and marked `...`.
pub const SHOWN_MAX: usize = 120;

/// An upper bound on the length of a displayed [`ConfigError`], so callers can format
/// it into a fixed buffer whole.
pub const ERROR_MAX: usize = 320;

/// The parsed configuration. [`Config::default`] is the table's defaults.
#[derive(Clone, Copy)]
pub struct Config {
    /// `kasan`.
    pub enabled: bool,
    /// `kasan_multi_shot`.
    pub multi_shot: bool,
    /// `kasan.fault`.
    pub fault: Fault,
    /// `panic_on_warn`.
    pub panic_on_warn: bool,
    /// `kasan.stacktrace`.
    pub stacktrace: bool,
    /// `kasan.stack_depth`.
    pub stack_depth: u32,
    /// `kasan.stack_ring_size`.
    pub stack_ring_size: u64,
    /// `kasan.stack_ring`.
    pub stack_ring: StackRing,
    /// `kasan.stack_ring_evict` (hidden).
    pub stack_ring_evict: bool,
    /// `kasan.vmalloc_shadow=always` (hidden): the vmalloc space's shadow stays mapped.
    pub vmalloc_shadow_always: bool,
    /// `kasan.shadow_share` (hidden).
    pub shadow_share: bool,
    /// `kasan.stack_depot_size`.
    pub stack_depot_size: u64,
    /// `kasan.quarantine_size`; `None` means "derive from the machine's memory".
    pub quarantine_size: Option<u64>,
    /// `kasan.quarantine_live_percent`: the quarantine's bound as a share of the live
    /// heap (0: none).
    pub quarantine_live_percent: u64,
    /// `kasan.quarantine_floor`: the least the live-heap bound allows.
    pub quarantine_floor: u64,
    /// `kasan.vmalloc`.
    pub vmalloc: bool,
    /// `kasan.slub_rcu_debug`.
    pub slub_rcu_debug: bool,
    /// `kasan.page_alloc.sample`.
    pub page_alloc_sample: u64,
    /// `kasan.page_alloc.sample.order`.
    pub page_alloc_sample_order: u32,
    /// `kasan.extra_info`.
    pub extra_info: bool,
    /// `kasan.report_format`.
    pub format: Format,
    /// `kasan.stats`.
    pub stats: bool,
    log_path: [u8; PATH_MAX],
    log_path_len: usize,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("enabled", &self.enabled)
            .field("multi_shot", &self.multi_shot)
            .field("fault", &self.fault)
            .field("format", &self.format)
            .field("log_path", &self.log_path())
            .finish_non_exhaustive()
    }
}

/// Why a parameter was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// No parameter of that name exists.
    Unknown,
    /// The value does not fit the parameter's type; the syntax expected.
    Malformed(&'static str),
    /// The number is outside the accepted range.
    OutOfRange {
        /// Smallest accepted value.
        min: u64,
        /// Largest accepted value.
        max: u64,
    },
    /// The whole value is longer than [`OPTIONS_MAX`]; the error's `param` is the
    /// parameter cut at the limit (empty if the limit fell between parameters).
    OverLimit {
        /// The length of the whole value, in bytes.
        len: usize,
    },
}

/// A rejected parameter, naming it (the name is a slice of the parsed text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigError<'a> {
    /// The parameter as written (`name` or `name=value`), as bytes: it may hold bytes
    /// that are not UTF-8.
    pub param: &'a [u8],
    /// What is wrong with it.
    pub kind: ErrorKind,
}

/// A parameter as errors show it: in quotes, printable UTF-8 as is, anything else
/// (bytes that are not UTF-8, control characters, the backslash) escaped as `\xNN` /
/// `\\`, cut after [`SHOWN_MAX`] bytes with `...` and the whole length. So an error
/// is one line of bounded length, whatever the parameter holds.
#[derive(Debug, Clone, Copy)]
pub struct Shown<'a>(pub &'a [u8]);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("'")?;
        let mut budget = SHOWN_MAX;
        let mut cut = false;
        'chunks: for chunk in self.0.utf8_chunks() {
            for c in chunk.valid().chars() {
                let mut utf8 = [0u8; 4];
                let bytes = c.encode_utf8(&mut utf8).len();
                // A control character shows as the \xNN of each of its bytes.
                let shown = match c {
                    '\\' => 2,
                    c if c.is_control() => 4 * bytes,
                    _ => bytes,
                };
                if shown > budget {
                    cut = true;
                    break 'chunks;
                }
                budget -= shown;
                match c {
                    '\\' => f.write_str("\\\\")?,
                    c if c.is_control() => {
                        for &b in &utf8[..bytes] {
                            write_hex(f, b)?;
                        }
                    }
                    c => f.write_char(c)?,
                }
            }
            for &b in chunk.invalid() {
                if budget < 4 {
                    cut = true;
                    break 'chunks;
                }
                budget -= 4;
                write_hex(f, b)?;
            }
        }
        if cut {
            write!(f, "...' ({} bytes)", self.0.len())
        } else {
            f.write_str("'")
        }
    }
}

/// Writes `\xNN` for one byte.
fn write_hex(f: &mut fmt::Formatter<'_>, b: u8) -> fmt::Result {
    write!(f, "\\x{b:02x}")
}

impl fmt::Display for ConfigError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let param = Shown(self.param);
        match self.kind {
            ErrorKind::Unknown => {
                write!(f, "unknown parameter {param} (`kasan options` lists them)")
            }
            ErrorKind::Malformed(syntax) => {
                write!(f, "malformed parameter {param}: expected {syntax}")
            }
            ErrorKind::OutOfRange { min, max } => {
                write!(f, "parameter {param} out of range: expected {min}..={max}")
            }
            ErrorKind::OverLimit { len } if self.param.is_empty() => write!(
                f,
                "{len} bytes, over the limit of {OPTIONS_MAX}: the parameters within the \
                 first {OPTIONS_MAX} bytes apply, the rest is ignored"
            ),
            ErrorKind::OverLimit { len } => write!(
                f,
                "{len} bytes, over the limit of {OPTIONS_MAX}: the parameters within the \
                 first {OPTIONS_MAX} bytes apply; {param}, cut at the limit, and the rest \
                 are ignored"
            ),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        let mut config = Config {
            enabled: true,
            multi_shot: false,
            fault: Fault::Report,
            panic_on_warn: false,
            stacktrace: true,
            stack_depth: 64,
            stack_ring_size: 32768,
            stack_ring: StackRing::PerCpu,
            stack_ring_evict: true,
            vmalloc_shadow_always: false,
            shadow_share: true,
            stack_depot_size: 128 << 20,
            quarantine_size: None,
            quarantine_live_percent: 50,
            quarantine_floor: 24 << 20,
            vmalloc: true,
            slub_rcu_debug: true,
            page_alloc_sample: 1,
            page_alloc_sample_order: 3,
            extra_info: false,
            format: Format::Text,
            stats: false,
            log_path: [0; PATH_MAX],
            log_path_len: 0,
        };
        // The table is the single source of defaults: apply each one through the
        // same path as user input, so the two can never disagree.
        for spec in OPTIONS.iter().chain(HIDDEN_OPTIONS) {
            if !spec.default.is_empty() {
                let applied = config.apply(spec, spec.default);
                debug_assert!(applied.is_ok(), "bad default for {}", spec.name);
            }
        }
        config
    }
}

impl Config {
    /// Parses a whole parameter string on top of the defaults.
    ///
    /// Every well-formed parameter is applied; each bad one is passed to `on_error`
    /// (the caller prints it) and skipped, so one typo does not lose the rest.
    pub fn parse<'a>(text: &'a str, on_error: impl FnMut(ConfigError<'a>)) -> Config {
        Config::parse_bytes(text.as_bytes(), on_error)
    }

    /// [`Config::parse`] of bytes, which need not be UTF-8 (a parameter that is not is
    /// malformed, the others apply).
    pub fn parse_bytes<'a>(text: &'a [u8], on_error: impl FnMut(ConfigError<'a>)) -> Config {
        let mut config = Config::default();
        config.apply_all(text, text.len(), on_error);
        config
    }

    /// Applies a parameter string on top of this configuration, later parameters over
    /// earlier ones (so applying two strings in turn merges them, the second winning).
    ///
    /// `text` is the start of a value of `len` bytes: all of it, or (for a value longer
    /// than [`OPTIONS_MAX`], which a caller with a bounded buffer reads only in part) at
    /// least its first `OPTIONS_MAX + 1` bytes. Then the parameters complete within the
    /// first `OPTIONS_MAX` bytes apply and one [`ErrorKind::OverLimit`] error, after the
    /// errors of those parameters, names the limit and the parameter cut by it.
    pub fn apply_all<'a>(
        &mut self,
        text: &'a [u8],
        len: usize,
        mut on_error: impl FnMut(ConfigError<'a>),
    ) {
        let over = len > OPTIONS_MAX;
        let read = &text[..text.len().min(len).min(OPTIONS_MAX)];
        // Over the limit, the last parameter read is whole only if a separator follows
        // it at the limit (a caller that gave fewer bytes is taken as cutting it).
        let last_whole = !over || text.get(OPTIONS_MAX).is_some_and(|&b| is_separator(b));
        let mut cut: &[u8] = &[];
        let mut params = read.split(|&b| is_separator(b)).peekable();
        while let Some(param) = params.next() {
            if param.is_empty() {
                continue;
            }
            if params.peek().is_none() && !last_whole {
                cut = param;
                break;
            }
            if let Err(kind) = self.set_bytes(param) {
                on_error(ConfigError { param, kind });
            }
        }
        if over {
            on_error(ConfigError {
                param: cut,
                kind: ErrorKind::OverLimit { len },
            });
        }
    }

    /// Applies one `name` or `name=value` parameter.
    pub fn set(&mut self, param: &str) -> Result<(), ErrorKind> {
        self.set_bytes(param.as_bytes())
    }

    /// [`Config::set`] of bytes: a name that is not UTF-8 is unknown, a value that is
    /// not is malformed.
    pub fn set_bytes(&mut self, param: &[u8]) -> Result<(), ErrorKind> {
        let (name, value) = match param.iter().position(|&b| b == b'=') {
            Some(i) => (&param[..i], Some(&param[i + 1..])),
            None => (param, None),
        };
        let spec = OPTIONS
            .iter()
            .chain(HIDDEN_OPTIONS)
            .find(|s| s.name.as_bytes() == name)
            .ok_or(ErrorKind::Unknown)?;
        let value = match (value, spec.kind) {
            (Some(v), _) => core::str::from_utf8(v).map_err(|_| spec.kind.expected())?,
            (None, Kind::Flag) => "on",
            (None, kind) => return Err(kind.expected()),
        };
        self.apply(spec, value)
    }

    /// The configured log file, if any.
    pub fn log_path(&self) -> Option<&str> {
        match self.log_path_len {
            0 => None,
            n => core::str::from_utf8(&self.log_path[..n]).ok(),
        }
    }

    fn apply(&mut self, spec: &OptionSpec, value: &str) -> Result<(), ErrorKind> {
        let malformed = spec.kind.expected();
        match spec.kind {
            Kind::Flag | Kind::Bool => {
                let on = parse_bool(value).ok_or(malformed)?;
                match spec.name {
                    "kasan" => self.enabled = on,
                    "kasan_multi_shot" => self.multi_shot = on,
                    "panic_on_warn" => self.panic_on_warn = on,
                    "kasan.stacktrace" => self.stacktrace = on,
                    "kasan.vmalloc" => self.vmalloc = on,
                    "kasan.slub_rcu_debug" => self.slub_rcu_debug = on,
                    "kasan.extra_info" => self.extra_info = on,
                    "kasan.stats" => self.stats = on,
                    "kasan.stack_ring_evict" => self.stack_ring_evict = on,
                    "kasan.shadow_share" => self.shadow_share = on,
                    _ => unreachable!("option table and setter disagree: {}", spec.name),
                }
            }
            Kind::Int { min, max } => {
                let n = parse_u64(value).ok_or(malformed)?;
                if n < min || n > max {
                    return Err(ErrorKind::OutOfRange { min, max });
                }
                match spec.name {
                    "kasan.stack_depth" => self.stack_depth = n as u32,
                    "kasan.stack_ring_size" => self.stack_ring_size = n,
                    "kasan.page_alloc.sample" => self.page_alloc_sample = n,
                    "kasan.page_alloc.sample.order" => self.page_alloc_sample_order = n as u32,
                    "kasan.quarantine_live_percent" => self.quarantine_live_percent = n,
                    _ => unreachable!("option table and setter disagree: {}", spec.name),
                }
            }
            Kind::Size => {
                let n = parse_size(value).ok_or(malformed)?;
                match spec.name {
                    "kasan.stack_depot_size" => self.stack_depot_size = n,
                    "kasan.quarantine_size" => self.quarantine_size = Some(n),
                    "kasan.quarantine_floor" => self.quarantine_floor = n,
                    _ => unreachable!("option table and setter disagree: {}", spec.name),
                }
            }
            Kind::Choice(words) => {
                let index = words.iter().position(|w| *w == value).ok_or(malformed)?;
                match spec.name {
                    "kasan.fault" => {
                        self.fault = [Fault::Report, Fault::Panic, Fault::PanicOnWrite][index]
                    }
                    "kasan.report_format" => self.format = [Format::Text, Format::Json][index],
                    "kasan.stack_ring" => {
                        self.stack_ring = [StackRing::Global, StackRing::PerCpu][index]
                    }
                    "kasan.vmalloc_shadow" => self.vmalloc_shadow_always = index == 1,
                    _ => unreachable!("option table and setter disagree: {}", spec.name),
                }
            }
            Kind::Path => {
                if value.len() >= PATH_MAX {
                    return Err(malformed);
                }
                self.log_path[..value.len()].copy_from_slice(value.as_bytes());
                self.log_path_len = value.len();
            }
        }
        Ok(())
    }
}

fn parse_bool(value: &str) -> Option<bool> {
    match value {
        "on" | "1" | "y" | "Y" | "yes" | "true" => Some(true),
        "off" | "0" | "n" | "N" | "no" | "false" => Some(false),
        _ => None,
    }
}

fn parse_u64(value: &str) -> Option<u64> {
    match value
        .strip_prefix("0x")
        .or_else(|| value.strip_prefix("0X"))
    {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => value.parse().ok(),
    }
}

fn parse_size(value: &str) -> Option<u64> {
    let (digits, shift) = match value.as_bytes().last()? {
        b'k' | b'K' => (&value[..value.len() - 1], 10),
        b'm' | b'M' => (&value[..value.len() - 1], 20),
        b'g' | b'G' => (&value[..value.len() - 1], 30),
        _ => (value, 0),
    };
    parse_u64(digits)?.checked_mul(1u64 << shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> Config {
        Config::parse(text, |e| panic!("unexpected error: {e}"))
    }

    #[test]
    fn defaults_match_linux() {
        let c = Config::default();
        assert!(c.enabled && !c.multi_shot && c.stacktrace);
        assert_eq!(c.fault, Fault::Report);
        assert_eq!(c.stack_depth, 64);
        assert_eq!(c.stack_ring_size, 32768);
        assert_eq!(c.stack_ring, StackRing::PerCpu);
        assert!(c.stack_ring_evict);
        assert_eq!(c.stack_depot_size, 128 << 20);
        assert_eq!(c.format, Format::Text);
        assert_eq!(c.log_path(), None);
    }

    #[test]
    fn stack_ring_design_size_and_hidden_eviction_switch() {
        let c = parse_ok(
            "kasan.stack_ring=global kasan.stack_ring_size=0x400 kasan.stack_ring_evict=off",
        );
        assert_eq!(c.stack_ring, StackRing::Global);
        assert_eq!(c.stack_ring_size, 1024);
        assert!(!c.stack_ring_evict);
        assert_eq!(
            parse_ok("kasan.stack_ring=percpu").stack_ring,
            StackRing::PerCpu
        );
        let mut errors = std::vec::Vec::new();
        let c = Config::parse("kasan.stack_ring=local", |e| {
            errors.push(std::format!("{e}"))
        });
        assert_eq!(c.stack_ring, StackRing::PerCpu);
        assert_eq!(
            errors,
            ["malformed parameter 'kasan.stack_ring=local': expected global|percpu"]
        );
        // Hidden: accepted, but not in the table `kasan options` prints.
        assert!(OPTIONS.iter().all(|o| o.name != "kasan.stack_ring_evict"));
        assert!(OPTIONS.iter().any(|o| o.name == "kasan.stack_ring"));
    }

    #[test]
    fn parses_spaces_commas_flags_and_values() {
        let c = parse_ok(
            " kasan_multi_shot,kasan.fault=panic_on_write  kasan.quarantine_size=16M,kasan.log_path=/tmp/k.log kasan.report_format=json kasan.stack_depth=0x10",
        );
        assert!(c.multi_shot);
        assert_eq!(c.fault, Fault::PanicOnWrite);
        assert_eq!(c.quarantine_size, Some(16 << 20));
        assert_eq!(
            (c.quarantine_live_percent, c.quarantine_floor),
            (50, 24 << 20)
        );
        let q = parse_ok("kasan.quarantine_live_percent=0 kasan.quarantine_floor=1M");
        assert_eq!(
            (q.quarantine_live_percent, q.quarantine_floor),
            (0, 1 << 20)
        );
        assert_eq!(c.log_path(), Some("/tmp/k.log"));
        assert_eq!(c.format, Format::Json);
        assert_eq!(c.stack_depth, 16);
        assert!(!parse_ok("kasan=off").enabled);
    }

    #[test]
    fn errors_name_the_parameter_and_keep_the_rest() {
        let mut errors = [None; 4];
        let mut n = 0;
        let c = Config::parse(
            "kasan.bogus kasan.fault=sometimes kasan_multi_shot kasan.stack_depth=999 kasan.fault",
            |e| {
                errors[n] = Some(e);
                n += 1;
            },
        );
        assert!(c.multi_shot);
        assert_eq!(n, 4);
        assert_eq!(errors[0].unwrap().kind, ErrorKind::Unknown);
        assert_eq!(errors[0].unwrap().param, b"kasan.bogus");
        assert_eq!(
            errors[1].unwrap().kind,
            ErrorKind::Malformed("report|panic|panic_on_write")
        );
        assert_eq!(
            errors[2].unwrap().kind,
            ErrorKind::OutOfRange { min: 1, max: 256 }
        );
        assert_eq!(errors[3].unwrap().param, b"kasan.fault");
    }

    /// Parses `text` (bytes), collecting each error as its displayed line.
    fn parse_lines(text: &[u8]) -> (Config, Vec<String>) {
        let mut lines = Vec::new();
        let c = Config::parse_bytes(text, |e| {
            let line = e.to_string();
            assert!(line.len() <= ERROR_MAX, "{} bytes: {line}", line.len());
            assert!(!line.contains('\n'), "{line}");
            lines.push(line);
        });
        (c, lines)
    }

    #[test]
    fn non_utf8_is_one_malformed_parameter_the_rest_applies() {
        let (c, lines) = parse_lines(
            b"kasan_multi_shot kasan.fa\xffult=panic kasan.fault=pa\xc3nic,kasan.log_path=/tmp/\xfe kasan.report_format=json",
        );
        assert!(c.multi_shot);
        assert_eq!(c.fault, Fault::Report);
        assert_eq!(c.log_path(), None);
        assert_eq!(c.format, Format::Json);
        assert_eq!(
            lines,
            [
                "unknown parameter 'kasan.fa\\xffult=panic' (`kasan options` lists them)",
                "malformed parameter 'kasan.fault=pa\\xc3nic': expected report|panic|panic_on_write",
                "malformed parameter 'kasan.log_path=/tmp/\\xfe': expected <path> of at most 255 bytes of UTF-8",
            ]
        );
        // Control characters and the backslash are escaped too, valid UTF-8 is kept.
        let (_, lines) = parse_lines("kasan.\u{1}x=\\é".as_bytes());
        assert_eq!(
            lines,
            ["unknown parameter 'kasan.\\x01x=\\\\é' (`kasan options` lists them)"]
        );
    }

    #[test]
    fn long_values_are_cut_in_a_whole_line() {
        let mut text = b"kasan.log_path=/".to_vec();
        text.extend(std::iter::repeat_n(b'a', 5000));
        text.extend(b" kasan_multi_shot");
        let (c, lines) = parse_lines(&text);
        assert!(c.multi_shot);
        let shown = format!("kasan.log_path=/{}", "a".repeat(SHOWN_MAX - 16));
        assert_eq!(
            lines,
            [format!(
                "malformed parameter '{shown}...' (5016 bytes): expected <path> of at most 255 bytes of UTF-8"
            )]
        );
        // An escape is never split: the cut falls before it.
        let mut text = vec![b'x'; SHOWN_MAX - 2];
        text.push(0xff);
        let (_, lines) = parse_lines(&text);
        assert_eq!(
            lines,
            [format!(
                "unknown parameter '{}...' ({} bytes) (`kasan options` lists them)",
                "x".repeat(SHOWN_MAX - 2),
                SHOWN_MAX - 1
            )]
        );
        // Exactly SHOWN_MAX bytes shown is not cut.
        let (_, lines) = parse_lines(&[b'y'; SHOWN_MAX]);
        assert_eq!(
            lines,
            [format!(
                "unknown parameter '{}' (`kasan options` lists them)",
                "y".repeat(SHOWN_MAX)
            )]
        );
        // The longest path accepted, and one byte more.
        let path = format!("kasan.log_path=/{}", "p".repeat(PATH_MAX - 2));
        assert_eq!(parse_ok(&path).log_path().map(str::len), Some(PATH_MAX - 1));
        let (c, lines) = parse_lines(format!("{path}p").as_bytes());
        assert_eq!((c.log_path(), lines.len()), (None, 1));
    }

    /// A value of exactly `len` bytes: `head`, filler parameters, `tail` at the end.
    fn value_of(len: usize, head: &str, tail: &str) -> Vec<u8> {
        let mut text = head.as_bytes().to_vec();
        while text.len() + 20 + 1 + tail.len() <= len {
            text.extend(b" kasan.stacktrace=on");
        }
        text.resize(len - tail.len(), b',');
        text.extend(tail.as_bytes());
        assert_eq!(text.len(), len);
        text
    }

    #[test]
    fn the_64k_boundary() {
        // Exactly the limit: read whole, the last parameter applies.
        let (c, lines) = parse_lines(&value_of(OPTIONS_MAX, "", " kasan_multi_shot"));
        assert!(c.multi_shot);
        assert!(lines.is_empty(), "{lines:?}");
        // One byte over, the last parameter cut by the limit: not applied, named.
        let text = value_of(OPTIONS_MAX + 1, "kasan.fault=panic", " kasan_multi_shot");
        let (c, lines) = parse_lines(&text);
        assert!(!c.multi_shot);
        assert_eq!(c.fault, Fault::Panic);
        assert_eq!(
            lines,
            ["65537 bytes, over the limit of 65536: the parameters within the first 65536 bytes apply; 'kasan_multi_sho', cut at the limit, and the rest are ignored"]
        );
        // A parameter ending exactly at the limit, a separator after it: it applies.
        let mut text = value_of(OPTIONS_MAX, "", " kasan_multi_shot");
        text.extend(b" kasan.fault=panic");
        let (c, lines) = parse_lines(&text);
        assert!(c.multi_shot);
        assert_eq!(c.fault, Fault::Report);
        assert_eq!(
            lines,
            ["65554 bytes, over the limit of 65536: the parameters within the first 65536 bytes apply, the rest is ignored"]
        );
        // A caller that read only the first OPTIONS_MAX + 1 bytes of a longer value
        // gets the same result as one that passes it all.
        let mut long = value_of(
            OPTIONS_MAX,
            "kasan_multi_shot kasan.bogus",
            ",kasan.fault=panic",
        );
        long.extend(b"x kasan.stats=on");
        let mut whole = Config::default();
        let mut whole_errors = Vec::new();
        whole.apply_all(&long, long.len(), |e| whole_errors.push(e.to_string()));
        let mut part = Config::default();
        let mut part_errors = Vec::new();
        part.apply_all(&long[..OPTIONS_MAX + 1], long.len(), |e| {
            part_errors.push(e.to_string())
        });
        assert_eq!(whole_errors, part_errors);
        assert_eq!(whole_errors.len(), 2);
        assert!(whole_errors[0].starts_with("unknown parameter 'kasan.bogus'"));
        assert!(
            whole_errors[1].contains("'kasan.fault=panic', cut at the limit"),
            "{whole_errors:?}"
        );
        assert!(whole.multi_shot && part.multi_shot);
        assert_eq!(
            (whole.fault, whole.stats, part.fault, part.stats),
            (Fault::Report, false, Fault::Report, false)
        );
        // The longest over-limit error fits ERROR_MAX (checked in parse_lines).
        let mut text = vec![b'z'; OPTIONS_MAX + 1];
        text.insert(0, b'x');
        assert_eq!(parse_lines(&text).1.len(), 1);
    }

    #[test]
    fn later_parameters_win_and_strings_merge_in_order() {
        let c = parse_ok(
            "kasan.fault=panic kasan.fault=report kasan.stack_depth=8,kasan.stack_depth=9",
        );
        assert_eq!((c.fault, c.stack_depth), (Fault::Report, 9));
        // Inherited, then --options: the second string wins where both set a parameter,
        // and what only the first sets stays.
        let mut c = Config::default();
        c.apply_all(b"kasan.fault=panic kasan_multi_shot", 34, |e| panic!("{e}"));
        c.apply_all(b"kasan.fault=panic_on_write", 26, |e| panic!("{e}"));
        assert_eq!(c.fault, Fault::PanicOnWrite);
        assert!(c.multi_shot);
        let c =
            parse_ok("kasan_multi_shot kasan_multi_shot=off kasan.log_path=/a kasan.log_path=/b");
        assert!(!c.multi_shot);
        assert_eq!(c.log_path(), Some("/b"));
    }

    #[test]
    fn sizes_follow_memparse() {
        assert_eq!(parse_size("4096"), Some(4096));
        assert_eq!(parse_size("4k"), Some(4096));
        assert_eq!(parse_size("2G"), Some(2 << 30));
        assert_eq!(parse_size("G"), None);
        assert_eq!(parse_size("99999999999999G"), None);
    }
}
