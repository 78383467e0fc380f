//! Run-time configuration in Linux boot-parameter syntax, for every mode.
//!
//! One declarative table, [`OPTIONS`], names each parameter with its type, default and
//! help text; `kasan options` prints it and [`Config::parse`] applies it. Parameters are
//! separated by spaces or commas: `kasan_multi_shot kasan.fault=panic,kasan.stacktrace=off`.
//! Linux's parameters keep their Linux meaning; ours live under `kasan.` too.
//!
//! Parsing never allocates: the one string value (`kasan.log_path`) is copied into a
//! fixed buffer, so the hosted runtime can parse `KASAN_OPTIONS` before any heap exists.

use core::fmt;

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
                _ => "<word>",
            },
            Kind::Path => "<path>",
        }
    }
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
        name: "kasan.vmalloc",
        kind: ON_OFF,
        default: "on",
        modes: "all",
        help: "check vmalloc memory",
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

/// Longest `kasan.log_path` accepted.
pub const PATH_MAX: usize = 256;

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
    /// `kasan.stack_depot_size`.
    pub stack_depot_size: u64,
    /// `kasan.quarantine_size`; `None` means "derive from the machine's memory".
    pub quarantine_size: Option<u64>,
    /// `kasan.vmalloc`.
    pub vmalloc: bool,
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
}

/// A rejected parameter, naming it (the name is a slice of the parsed text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigError<'a> {
    /// The parameter as written (`name` or `name=value`).
    pub param: &'a str,
    /// What is wrong with it.
    pub kind: ErrorKind,
}

impl fmt::Display for ConfigError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ErrorKind::Unknown => write!(
                f,
                "unknown parameter '{}' (`kasan options` lists them)",
                self.param
            ),
            ErrorKind::Malformed(syntax) => {
                write!(
                    f,
                    "malformed parameter '{}': expected {}",
                    self.param, syntax
                )
            }
            ErrorKind::OutOfRange { min, max } => write!(
                f,
                "parameter '{}' out of range: expected {}..={}",
                self.param, min, max
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
            stack_depot_size: 128 << 20,
            quarantine_size: None,
            vmalloc: true,
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
        for spec in OPTIONS {
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
    pub fn parse<'a>(text: &'a str, mut on_error: impl FnMut(ConfigError<'a>)) -> Config {
        let mut config = Config::default();
        for param in text
            .split(|c: char| c == ',' || c.is_ascii_whitespace())
            .filter(|p| !p.is_empty())
        {
            if let Err(kind) = config.set(param) {
                on_error(ConfigError { param, kind });
            }
        }
        config
    }

    /// Applies one `name` or `name=value` parameter.
    pub fn set(&mut self, param: &str) -> Result<(), ErrorKind> {
        let (name, value) = match param.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (param, None),
        };
        let spec = OPTIONS
            .iter()
            .find(|s| s.name == name)
            .ok_or(ErrorKind::Unknown)?;
        let value = match (value, spec.kind) {
            (Some(v), _) => v,
            (None, Kind::Flag) => "on",
            (None, kind) => return Err(ErrorKind::Malformed(kind.syntax())),
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
        let malformed = ErrorKind::Malformed(spec.kind.syntax());
        match spec.kind {
            Kind::Flag | Kind::Bool => {
                let on = parse_bool(value).ok_or(malformed)?;
                match spec.name {
                    "kasan" => self.enabled = on,
                    "kasan_multi_shot" => self.multi_shot = on,
                    "panic_on_warn" => self.panic_on_warn = on,
                    "kasan.stacktrace" => self.stacktrace = on,
                    "kasan.vmalloc" => self.vmalloc = on,
                    "kasan.extra_info" => self.extra_info = on,
                    "kasan.stats" => self.stats = on,
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
                    _ => unreachable!("option table and setter disagree: {}", spec.name),
                }
            }
            Kind::Size => {
                let n = parse_size(value).ok_or(malformed)?;
                match spec.name {
                    "kasan.stack_depot_size" => self.stack_depot_size = n,
                    "kasan.quarantine_size" => self.quarantine_size = Some(n),
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
        assert_eq!(c.stack_depot_size, 128 << 20);
        assert_eq!(c.format, Format::Text);
        assert_eq!(c.log_path(), None);
    }

    #[test]
    fn parses_spaces_commas_flags_and_values() {
        let c = parse_ok(
            " kasan_multi_shot,kasan.fault=panic_on_write  kasan.quarantine_size=16M,kasan.log_path=/tmp/k.log kasan.report_format=json kasan.stack_depth=0x10",
        );
        assert!(c.multi_shot);
        assert_eq!(c.fault, Fault::PanicOnWrite);
        assert_eq!(c.quarantine_size, Some(16 << 20));
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
        assert_eq!(errors[0].unwrap().param, "kasan.bogus");
        assert_eq!(
            errors[1].unwrap().kind,
            ErrorKind::Malformed("report|panic|panic_on_write")
        );
        assert_eq!(
            errors[2].unwrap().kind,
            ErrorKind::OutOfRange { min: 1, max: 256 }
        );
        assert_eq!(errors[3].unwrap().param, "kasan.fault");
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
