//! syzkaller's title and corruption rules for Linux reports, ported for the KASAN and
//! general-protection-fault reports this runtime prints, so that the suite can check
//! that every report gets the title syzbot would give Linux's report of the same bug.
//!
//! What is ported, from syzkaller's `pkg/report/linux.go` and `pkg/report/report.go`
//! (facts, not code: the regular expressions are rewritten for Rust's `regex`):
//!
//! - the oops headers `BUG:` (its KASAN formats: access, invalid-free, the old
//!   `on address` form and the corrupted catch-all) and `general protection fault`
//!   (with its suppression of user-space segfault lines);
//! - the choice of the guilty frame: the function on the `BUG: KASAN:` line (or the
//!   `RIP:` line), then the `Call Trace:` frames, skipping syzkaller's list of
//!   sanitizer, allocator, locking, string and printing functions plus the format's
//!   own skips, and stripping syscall prefixes (`__x64_sys_`, `__se_sys_`, ...);
//! - the title clean-up (addresses to `ADDR`, numbers to `NUM`, line numbers to
//!   `LINE`, 120 characters at most) and the corruption rules: a title with a
//!   timestamp in it, a title format marked corrupted, no guilty frame found, and
//!   every `Call Trace`, `Allocated by task N:`, `Freed by task N:` (and the other
//!   stack starts) without a frame within the next 15 lines.
//!
//! Not ported: the other oopses (WARNING, lockdep, KMSAN, KCSAN, KFENCE, hangs...),
//! console prefixes other than the timestamp and `[ Tnnn]` caller (see
//! [`strip_console_prefix`]), C++ demangling of frames, and alternative titles.
//!
//! [`expected_title`] says, from the report's own first lines read as Linux lays them
//! out (not with syzkaller's regular expressions over the whole text), which title
//! Linux's report of that bug gets; [`check_reports`] compares the two for every report
//! in a program's output and reports a corrupted verdict.

use std::sync::OnceLock;

use regex::Regex;

/// syzkaller's `compile`: its `{{ADDR}}`, `{{PC}}`, `{{FUNC}}` macros expanded.
fn compile(re: &str) -> Regex {
    let re = re
        .replace("{{ADDR}}", "0x[0-9a-f]+")
        .replace("{{PC}}", r"\[\<?(?:0x)?[0-9a-f]+\>?\]")
        .replace("{{FUNC}}", r"([a-zA-Z0-9_]+)(?:\.|\+)");
    Regex::new(&re).expect("a syzkaller pattern")
}

/// Functions never taken as the guilty frame (syzkaller's `linuxStackParams`
/// `skipPatterns`, matched anywhere in the name).
const SKIP_PATTERNS: &[&str] = &[
    "__sanitizer",
    "__asan",
    "kasan",
    "hwasan",
    "__msan",
    "kmsan",
    "kcsan_setup_watchpoint",
    "check_memory_region",
    "check_heap_object",
    "check_object",
    "read_word_at_a_time",
    "(read|write)_once_.*nocheck",
    "print_address_description",
    "panic",
    "invalid_op",
    "report_bug",
    "fixup_bug",
    "print_report",
    "print_usage_bug",
    "do_error",
    "_trap$|do_trap",
    "show_stack",
    "dump_stack",
    "walk_stack",
    "dump_backtrace",
    "warn_slowpath",
    "warn_alloc",
    "warn_bogus",
    "__warn",
    "alloc_page",
    "k?v?(?:m|z|c)alloc",
    "krealloc",
    "kmem_cache",
    "allocate_slab",
    "__alloc_frozen_pages_noprof",
    "folio_(?:alloc|unlock)",
    "filemap_alloc_folio",
    "__filemap_get_folio",
    "find_or_create_page",
    "do_read_cache_folio",
    "read_cache_page",
    "pagecache_get_page",
    "grab_cache_page_write_begin",
    "slab_",
    "debug_object",
    "timer_is_static_object",
    "work_is_static_object",
    "__might_fault",
    "print_unlock",
    "imbalance_bug",
    "lockdep",
    "bh_enable",
    "bh_disable",
    "perf_trace",
    "lock_acquire",
    "lock_release",
    "lock_class",
    "mark_lock",
    "(reacquire|mark)_held_locks",
    "raw_spin_rq",
    "spin_lock",
    "spin_trylock",
    "spin_unlock",
    "read_lock",
    "read_trylock",
    "write_lock",
    "write_trylock",
    "read_unlock",
    "write_unlock",
    "^down$",
    "down_read",
    "down_write",
    "down_read_trylock",
    "down_write_trylock",
    "down_trylock",
    "up_read",
    "up_write",
    "^mutex_",
    "^__mutex_",
    "^rt_mutex_",
    "owner_on_cpu",
    "osq_lock",
    "osq_unlock",
    "atomic(64)?_(dec|inc|read|set|or|xor|and|add|sub|fetch|xchg|cmpxchg|try)",
    "(set|clear|change|test)_bit",
    "__wake_up",
    "^refcount_",
    "^kref_",
    "ref_tracker",
    "seqprop_assert",
    "memcpy",
    "memcmp",
    "memset",
    "memchr",
    "memmove",
    "memdup",
    "strcmp",
    "strncmp",
    "strcpy",
    "strlcpy",
    "strncpy",
    "strscpy",
    "strlen",
    "strstr",
    "strnstr",
    "strnlen",
    "strchr",
    "strdup",
    "strndup",
    "copy_to_user",
    "copy_from_user",
    "copy_to_iter",
    "copy_from_iter",
    "copy_page_to_iter",
    "copy_page_from_iter",
    "copy_folio_to_iter",
    "^copyin$",
    "^copyout$",
    "put_user",
    "get_user",
    "might_fault",
    "might_sleep",
    "list_add",
    "list_del",
    "list_replace",
    "list_move",
    "list_splice",
    "^rb_",
    "^__rb_",
    "_indirect_thunk_",
    "string",
    "pointer",
    "snprintf",
    "scnprintf",
    "kasprintf",
    "kvasprintf",
    "printk",
    "va_format",
    "dev_info",
    "dev_notice",
    "dev_warn",
    "dev_err",
    "dev_alert",
    "dev_crit",
    "dev_emerg",
    "program_check_exception",
    "program_check_common",
    "del_timer",
    "flush_work",
    "__cancel_work_timer",
    "cancel_work_sync",
    "try_to_grab_pending",
    "flush_workqueue",
    "drain_workqueue",
    "destroy_workqueue",
    "queue_work",
    "finish_wait",
    "kthread_stop",
    "kobject_",
    "add_uevent_var",
    "get_device_parent",
    "device_add",
    "device_del",
    "device_unregister",
    "device_destroy",
    "device_release",
    "devres_release_all",
    "hwrng_unregister",
    "i2c_del_adapter",
    "__unregister_client",
    "device_for_each_child",
    "rollback_registered",
    "unregister_netdev",
    "sysfs_remove",
    "device_remove_file",
    "tty_unregister_device",
    "dummy_urb_enqueue",
    "usb_kill_urb",
    "usb_kill_anchored_urbs",
    "usb_control_msg",
    "usb_hcd_submit_urb",
    "usb_submit_urb",
    "^complete$",
    "wait_for_completion",
    "^kv?free$",
    "kfree_skb",
    "readb$",
    "readw$",
    "readl$",
    "readq$",
    "writeb$",
    "writew$",
    "writel$",
    "writeq$",
    "logic_in",
    "logic_out",
    r"^crc\d+",
    "crc_itu_t",
    "__might_resched",
    "assertfail",
    "^iput$",
    "^iput_final$",
    "^ihold$",
    "hex_dump_to_buffer",
    "print_hex_dump",
    "^klist_",
    "(trace|lockdep)_(hard|soft)irq",
    "^(un)?lock_page",
    "stack_trace_consume_entry",
    "arch_stack_walk",
    "stack_trace_save",
    "insert_work",
    "__queue_delayed_work",
    "queue_delayed_work_on",
    "ida_free",
    "do_(kernel|translation)_fault",
    "do_mem_abort",
    "el1_abort",
    "el1h_64_sync(?:_handler)?",
    "print_tainted",
    "xas_(?:start|load|find)",
    "find_lock_entries",
    "truncate_inode_pages_range",
    "__phys_addr",
    "__fortify_report",
    "cleanup_srcu_struct",
    "rhashtable_lookup",
    "extract_(user|iter)_to_sg",
    "drop_nlink",
    "^get_taint$",
    "^put_device$",
    "lock_timer_base",
    "__timer_delete_sync",
    "sk_stop_timer_sync",
    "__mod_timer",
    "fast_dput",
    "dput",
    "mark_buffer_dirty",
];

/// The extra skips of the KASAN access format (frames of KASAN_HW_TAGS reports).
const KASAN_ACCESS_SKIP: &[&str] = &["kernel_fault", "tag_check", "mem_abort", "^el1_", "^el1h_"];
/// The extra skips of the KASAN invalid-free format.
const KASAN_FREE_SKIP: &[&str] = &["slab_", "kfree", "vunmap", "vfree"];

/// Syscall-entry prefixes stripped from the guilty frame (`stripFramePrefixes`).
const STRIP_PREFIXES: &[&str] = &[
    "SYSC_",
    "SyS_",
    "sys_",
    "__x64_",
    "__ia32_",
    "__arm64_",
    "____sys_",
    "___sys_",
    "__sys_",
    "__se_",
    "__se_sys_",
    "__do_sys_",
    "compat_SYSC_",
    "compat_SyS_",
    "ksys_",
];

/// One step of a stack format (`stackFmt.parts`): a line to find (capturing a frame
/// or not), or "parse the stack trace from here".
enum Part {
    Line(Regex),
    StackTrace,
}

/// One title format of an oops (`oopsFormat`).
struct Format {
    title: Regex,
    report: Option<Regex>,
    /// The title; `{N}` is the N-th argument (1-based): the captures of `report` (or
    /// `title`), then the guilty frame.
    fmt: &'static str,
    stack: Option<(Vec<Part>, Regex)>,
    corrupted: bool,
}

/// An oops: the text that starts it, its formats, the lines that look like it but
/// are not one.
struct Oops {
    header: &'static str,
    formats: Vec<Format>,
    suppressions: Vec<Regex>,
}

struct Rules {
    oopses: Vec<Oops>,
    stack_starts: Vec<Regex>,
    frames: Vec<Regex>,
    corrupted_lines: Vec<Regex>,
    corrupted_titles: Vec<Regex>,
    questionable: Regex,
    console_prefix: Regex,
    replacements: Vec<(Regex, &'static str)>,
}

fn skip_re(extra: &[&str]) -> Regex {
    let all: Vec<&str> = SKIP_PATTERNS.iter().chain(extra).copied().collect();
    Regex::new(&all.join("|")).expect("the skip patterns")
}

fn rules() -> &'static Rules {
    static RULES: OnceLock<Rules> = OnceLock::new();
    RULES.get_or_init(|| {
        let call_trace = || compile("(?:Call (?:T|t)race:)|(?:Backtrace:)");
        let rip_frame = || {
            compile(
                r"(?:IP|NIP|pc |PC is at):? (?:(?:[0-9]+:)?(?:{{PC}} +){0,2}{{FUNC}}|(?:[0-9]+:)?0x[0-9a-f]+|(?:[0-9]+:)?{{PC}} +\[< *\(null\)>\] +\(null\)|[0-9]+: +\(null\))",
            )
        };
        let free = "(?:double-free or invalid-free|double-free|invalid-free)";
        let bug = Oops {
            header: "BUG:",
            formats: vec![
                Format {
                    title: compile("BUG: KASAN:"),
                    report: Some(compile(
                        r"BUG: KASAN: ([a-z\-]+) in {{FUNC}}(?:.*\n)+?.*(Read|Write) (?:of size|at addr) (?:[0-9a-f]+)",
                    )),
                    fmt: "KASAN: {1} {3} in {4}",
                    stack: Some((
                        vec![
                            Part::Line(compile(r"BUG: KASAN: (?:[a-z\-]+) in {{FUNC}}")),
                            Part::Line(call_trace()),
                            Part::StackTrace,
                        ],
                        skip_re(KASAN_ACCESS_SKIP),
                    )),
                    corrupted: false,
                },
                Format {
                    title: compile("BUG: KASAN:"),
                    report: Some(compile(&format!("BUG: KASAN: {free} in {{{{FUNC}}}}"))),
                    fmt: "KASAN: invalid-free in {2}",
                    stack: Some((
                        vec![
                            Part::Line(compile(&format!("BUG: KASAN: {free} in {{{{FUNC}}}}"))),
                            Part::Line(call_trace()),
                            Part::StackTrace,
                        ],
                        skip_re(KASAN_FREE_SKIP),
                    )),
                    corrupted: false,
                },
                Format {
                    title: compile(
                        r"BUG: KASAN: ([a-z\-]+) on address(?:.*\n)+?.*(Read|Write) of size ([0-9]+)",
                    ),
                    report: None,
                    fmt: "KASAN: {1} {2}",
                    stack: None,
                    corrupted: false,
                },
                Format {
                    title: compile("BUG: KASAN: (.*)"),
                    report: None,
                    fmt: "KASAN: {1}",
                    stack: None,
                    corrupted: true,
                },
            ],
            suppressions: Vec::new(),
        };
        let gpf = Oops {
            header: "general protection fault",
            formats: vec![Format {
                title: compile("general protection fault.*:"),
                report: None,
                fmt: "general protection fault in {1}",
                stack: Some((
                    vec![Part::Line(rip_frame()), Part::Line(call_trace()), Part::StackTrace],
                    skip_re(&[]),
                )),
                corrupted: false,
            }],
            suppressions: vec![compile(r"general protection fault .* error:\d+ in ")],
        };
        Rules {
            oopses: vec![bug, gpf],
            stack_starts: [
                "Call (?:T|t)race",
                "Allocated:",
                "Allocated by task [0-9]+:",
                "Freed:",
                "Freed by task [0-9]+:",
                r"[^k] backtrace(?: \(crc [[:xdigit:]]*\))?:",
                "Backtrace:",
                "Uninit was stored to memory at",
                "status: [0-9a-f]{16} badaddr: [0-9a-f]{16} cause: [0-9a-f]{16}",
            ]
            .iter()
            .map(|r| Regex::new(r).expect("a stack start"))
            .collect(),
            frames: vec![
                compile("^ *(?:{{PC}} ){0,2}{{FUNC}}"),
                compile(r"^ *{{PC}} \(([a-zA-Z0-9_.]+)\) from {{PC}} \({{FUNC}}"),
            ],
            corrupted_lines: vec![compile(
                r"^( \[\<?(?:0x)?[0-9a-f]+\>?\])? should_fail(slab)?(\.[a-z0-9.]+)?\+0x",
            )],
            corrupted_titles: vec![Regex::new(r"\[ *[0-9]+\.[0-9]+\]").expect("a title re")],
            questionable: Regex::new(r"^(?:\[\<?(?:0x)?[0-9a-f]+\>?\])? +\? ").expect("a re"),
            console_prefix: Regex::new(r"^(?:\[ *[0-9]+\.[0-9]+\])?(?:\[ *[CT][0-9]+\])? ?")
                .expect("a re"),
            replacements: vec![
                (Regex::new(r"([^a-zA-Z0-9])(?:0x)?[0-9a-f]{6,}").expect("re"), "${1}ADDR"),
                (
                    Regex::new(r"([0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3})").expect("re"),
                    "IP",
                ),
                (Regex::new(r"(\.\w+)(:[0-9]+)+").expect("re"), "${1}:LINE"),
                (
                    Regex::new(r"([a-zA-Z][a-zA-Z0-9_.]+)\+0x[0-9a-z]+/0x[0-9a-z]+").expect("re"),
                    "${1}",
                ),
                (Regex::new(r"CPU#[0-9]+").expect("re"), "CPU"),
                (Regex::new(r"(\W)(\d+)(\W|$)").expect("re"), "${1}NUM${3}"),
                (Regex::new(r"(\d+){7,}").expect("re"), "NUM"),
            ],
        }
    })
}

/// The verdict on one report: its title and, if syzkaller would call it corrupted,
/// why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub title: String,
    pub corrupted: Option<&'static str>,
}

/// Removes a console line's timestamp (`[   89.184911]`) and caller (`[ T5827]`)
/// prefix, as syzkaller does before it reads a report, and drops the `? ` of an
/// unreliable frame (syzkaller leaves such frames out, see [`parse`]).
pub fn strip_console_prefix(text: &str) -> String {
    let r = rules();
    let mut out = String::new();
    for line in text.lines() {
        let line = if line.starts_with('[') {
            r.console_prefix.replace(line, "")
        } else {
            line.into()
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

fn header_at(line: &str) -> Option<&'static Oops> {
    rules()
        .oopses
        .iter()
        .find(|o| line.contains(o.header) && !o.suppressions.iter().any(|s| s.is_match(line)))
}

fn strip_frame(frame: &str) -> String {
    let mut best = frame;
    for p in STRIP_PREFIXES {
        if let Some(rest) = frame.strip_prefix(p) {
            if rest.len() < best.len() {
                best = rest;
            }
        }
    }
    best.to_string()
}

fn push_frames(frames: &mut Vec<String>, caps: Option<regex::Captures<'_>>, skip: &Regex) {
    let Some(caps) = caps else { return };
    for m in caps.iter().skip(1).flatten() {
        if !skip.is_match(m.as_str()) {
            frames.push(m.as_str().to_string());
        }
    }
}

/// syzkaller's `extractStackFrameImpl` for formats whose stack trace part is last:
/// the guilty frame, or `None` when none was found or a corrupted line was met.
fn guilty_frame(report: &str, parts: &[Part], skip: &Regex) -> Option<String> {
    let r = rules();
    let mut lines = report.split('\n');
    let mut frames = Vec::new();
    let mut ok = true;
    'parts: for part in parts {
        match part {
            Part::Line(re) => {
                for line in lines.by_ref() {
                    if r.corrupted_lines.iter().any(|c| c.is_match(line)) {
                        ok = false;
                        continue 'parts;
                    }
                    if let Some(c) = re.captures(line) {
                        push_frames(&mut frames, Some(c), skip);
                        break;
                    }
                }
            }
            Part::StackTrace => {
                for line in lines.by_ref() {
                    if r.corrupted_lines.iter().any(|c| c.is_match(line)) {
                        ok = false;
                        continue 'parts;
                    }
                    if r.stack_starts.iter().any(|s| s.is_match(line)) {
                        continue 'parts;
                    }
                    push_frames(
                        &mut frames,
                        r.frames.iter().find_map(|f| f.captures(line)),
                        skip,
                    );
                }
            }
        }
    }
    match frames.first() {
        Some(f) if ok => Some(strip_frame(f)),
        _ => None,
    }
}

fn format_title(fmt: &str, args: &[String]) -> String {
    let mut out = fmt.to_string();
    for (i, a) in args.iter().enumerate() {
        out = out.replace(&format!("{{{}}}", i + 1), a);
    }
    out
}

/// syzkaller's `replaceTable(dynamicTitleReplacement)` and `sanitizeTitle`.
fn clean_title(title: &str) -> String {
    let mut s = title.to_string();
    for (re, with) in &rules().replacements {
        loop {
            let next = re.replace_all(&s, *with).into_owned();
            if next == s {
                break;
            }
            s = next;
        }
    }
    let mut out = String::new();
    let mut prev = ' ';
    for ch in s.bytes().take(120) {
        let ch = match ch {
            b'\t' => ' ',
            c if !(0x20..0x7f).contains(&c) => continue,
            c => c as char,
        };
        if ch == ' ' && prev == ' ' {
            continue;
        }
        out.push(ch);
        prev = ch;
    }
    out.trim().to_string()
}

/// syzkaller's `isCorrupted` for a report that matched a title format with a stack.
fn stack_corruption(report: &str) -> Option<&'static str> {
    let r = rules();
    let mut has_trace = false;
    for start in &r.stack_starts {
        let Some(m) = start.find(report) else {
            continue;
        };
        let lines: Vec<&str> = report[m.start()..].split('\n').collect();
        if lines.len() < 4 {
            return Some("call trace is missed");
        }
        let mut corrupted = true;
        for line in lines[1..].iter().take(15) {
            if r.stack_starts.iter().any(|s| s.is_match(line)) {
                break;
            }
            if line.contains("(stack is not available)")
                || r.frames.iter().any(|f| f.is_match(line))
            {
                has_trace = true;
                corrupted = false;
                break;
            }
        }
        let riscv = start.as_str().starts_with("status: ");
        if corrupted && !riscv {
            return Some("no frames in a stack trace");
        }
    }
    (!has_trace).then_some("no stack trace in report")
}

/// syzkaller's verdict on the first oops in `text` (console prefixes already
/// stripped): `None` if there is no KASAN or general-protection-fault oops in it.
pub fn parse(text: &str) -> Option<Verdict> {
    let r = rules();
    // Unreliable (`? `) frames are left out, as syzkaller does on its first pass.
    let text: String = text
        .lines()
        .filter(|l| !r.questionable.is_match(l))
        .flat_map(|l| [l, "\n"])
        .collect();
    let mut pos = 0;
    let (oops, start) = loop {
        let line = text[pos..].lines().next()?;
        if let Some(o) = header_at(line) {
            break (o, pos);
        }
        pos += line.len() + 1;
        if pos >= text.len() {
            return None;
        }
    };
    let report = &text[start..];
    let mut title = None::<String>;
    let mut corrupted = None;
    let mut format = None;
    let mut matched_title = false;
    let mut start_pos = report.len();
    for f in &oops.formats {
        let Some(m) = f.title.find(report) else {
            continue;
        };
        if m.start() > start_pos || (m.start() == start_pos && title.is_some()) {
            continue;
        }
        if m.start() < start_pos {
            title = None;
            format = None;
            start_pos = m.start();
        }
        matched_title = true;
        let re = f.report.as_ref().unwrap_or(&f.title);
        let Some(caps) = re.captures(report) else {
            continue;
        };
        let whole = caps.get(0).expect("group 0");
        let mut args: Vec<String> = caps
            .iter()
            .skip(1)
            .map(|g| g.map(|g| g.as_str().to_string()).unwrap_or_default())
            .collect();
        corrupted = None;
        if let Some((parts, skip)) = &f.stack {
            match guilty_frame(&report[whole.start()..], parts, skip) {
                Some(frame) => args.push(frame),
                None => {
                    args.push("corrupted".into());
                    corrupted = Some("extracted no stack frame");
                }
            }
        }
        title = Some(format_title(f.fmt, &args));
        format = Some(f);
    }
    let title = match title {
        Some(t) => t,
        None => {
            if matched_title {
                corrupted = Some("matched title but not report regexp");
            }
            report.lines().next().unwrap_or_default().to_string()
        }
    };
    if corrupted.is_none() && format.is_some_and(|f| f.corrupted) {
        corrupted = Some("report format is marked as corrupted");
    }
    let title = clean_title(&title);
    if corrupted.is_none() {
        if r.corrupted_titles.iter().any(|c| c.is_match(&title)) {
            corrupted = Some("title matches corrupted regexp");
        } else if format.is_some_and(|f| f.stack.is_some()) {
            corrupted = stack_corruption(report);
        }
    }
    Some(Verdict { title, corrupted })
}

/// The reports in a program's output: each starts at a line where syzkaller sees a
/// KASAN or general-protection-fault oops and runs to the next such line. JSON lines
/// (a report's `title` field holds `BUG: KASAN:` too) and the runtime's own `kasan: `
/// messages (e.g. its line for a fatal signal, which is no Linux report) are not
/// oops lines.
pub fn split_reports(text: &str) -> Vec<String> {
    let mut reports: Vec<String> = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let oops =
            !line.starts_with('{') && !line.starts_with("kasan: ") && header_at(line).is_some();
        if oops {
            if let Some(r) = current.take() {
                reports.push(r);
            }
            current = Some(String::new());
        }
        if let Some(r) = current.as_mut() {
            r.push_str(line);
            r.push('\n');
        }
    }
    reports.extend(current);
    reports
}

/// The function name at the start of `s` (up to the first character that cannot be
/// in a C identifier), if followed by `+` or `.` as in a Linux frame.
fn leading_function(s: &str) -> Option<&str> {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    (end > 0 && matches!(s[end..].chars().next(), Some('+' | '.'))).then(|| &s[..end])
}

/// The title Linux's report of this bug gets, read from the report's own lines as
/// Linux lays them out: the bug type and function of the `BUG: KASAN:` line, the
/// access of the line after it (`Read of size N` / `Write of size N`), a double-free
/// or invalid-free as syzkaller's `invalid-free`; for a general protection fault, the
/// `RIP:` function. When that function is one syzkaller skips (a checked `memcpy`,
/// `strlen`...), the first `Call Trace:` frame it does not skip, as for Linux's report
/// whose trace holds the same frames. `None` when the report's first lines are not
/// in Linux's layout.
pub fn expected_title(report: &str) -> Option<String> {
    let lines: Vec<&str> = report.lines().collect();
    let first = *lines.first()?;
    let trace: Vec<&str> = lines
        .iter()
        .skip_while(|l| !l.starts_with("Call Trace:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty() && l.trim() != "</TASK>")
        .filter_map(|l| leading_function(l.trim_start()))
        .collect();
    let pick = |f: Option<&str>, skip: &Regex| {
        f.into_iter()
            .chain(trace.iter().copied())
            .find(|f| !skip.is_match(f))
            .map(strip_frame)
    };
    if let Some(rest) = first.strip_prefix("BUG: KASAN: ") {
        let (kind, after) = rest.split_once(" in ")?;
        let func = leading_function(after)?;
        if matches!(
            kind,
            "double-free" | "invalid-free" | "double-free or invalid-free"
        ) {
            let f = pick(Some(func), &skip_re(KASAN_FREE_SKIP))?;
            return Some(format!("KASAN: invalid-free in {f}"));
        }
        let access = lines.get(1)?.split_once(" of size ")?.0;
        if !matches!(access, "Read" | "Write") {
            return None;
        }
        let f = pick(Some(func), &skip_re(KASAN_ACCESS_SKIP))?;
        return Some(format!("KASAN: {kind} {access} in {f}"));
    }
    if first.contains("general protection fault") {
        let rip = lines.iter().find_map(|l| l.strip_prefix("RIP: "))?;
        let rip = rip.split_once(':').map_or(rip, |(cs, f)| {
            if cs.chars().all(|c| c.is_ascii_digit()) {
                f
            } else {
                rip
            }
        });
        let f = pick(leading_function(rip), &skip_re(&[]))?;
        return Some(format!("general protection fault in {f}"));
    }
    None
}

/// Checks every text report in `output` (a program's stderr or log file): syzkaller
/// must title it as Linux's report of that bug ([`expected_title`]) and not judge it
/// corrupted. Returns the problems, each a sentence naming `file`.
pub fn check_reports(output: &str, file: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for (i, report) in split_reports(output).iter().enumerate() {
        let first = report.lines().next().unwrap_or_default();
        let Some(v) = parse(report) else { continue };
        if let Some(why) = v.corrupted {
            problems.push(format!(
                "{file}: report {} ({first}): syzkaller would judge it corrupted ({why}); its title: {}",
                i + 1,
                v.title
            ));
        }
        match expected_title(report) {
            Some(t) if t == v.title => {}
            Some(t) => problems.push(format!(
                "{file}: report {} ({first}): syzkaller's title is `{}`, Linux's report would get `{t}`",
                i + 1,
                v.title
            )),
            None => problems.push(format!(
                "{file}: report {} ({first}): not in Linux's layout (no `Read/Write of size` line or no function); syzkaller's title: `{}`",
                i + 1,
                v.title
            )),
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    /// syzkaller `pkg/report/testdata/linux/report/740` (TITLE: KASAN:
    /// slab-use-after-free Read in chrdev_open): the BUG line names a list helper that
    /// syzkaller skips, so the title takes the next frame.
    const REPORT_740: &str = "\
==================================================================
BUG: KASAN: slab-use-after-free in __list_add_valid_or_report+0x16a/0x1a0
Read of size 8 at addr ffff888012acfc20 by task syz-executor311/9489

CPU: 0 UID: 0 PID: 9489 Comm: syz-executor311 Not tainted 6.15.0-rc1 #1 PREEMPT(full) 
Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.13.0-1ubuntu1.1 04/01/2014
Call Trace:
 <TASK>
 dump_stack_lvl+0x116/0x1b0
 print_report+0xc1/0x630
 kasan_report+0x96/0xd0
 __list_add_valid_or_report+0x16a/0x1a0
 chrdev_open+0x3a7/0x590
 do_dentry_open+0x786/0x1c90
 vfs_open+0x82/0x3f0
 path_openat+0x1f75/0x2980
 do_filp_open+0x1f9/0x2f0
 do_sys_openat2+0x4e3/0x710
 do_sys_open+0xc6/0x150
 __x64_sys_openat+0x9d/0x110
 do_syscall_64+0xcf/0x260
 entry_SYSCALL_64_after_hwframe+0x77/0x7f
RIP: 0033:0x7fe80723d76d
 </TASK>

Allocated by task 9483:
 kasan_save_stack+0x24/0x50
 kasan_save_track+0x14/0x30
 __kasan_slab_alloc+0x87/0x90
 kmem_cache_alloc_lru_noprof+0x165/0x4a0
 ntfs_alloc_inode+0x27/0x80
 alloc_inode+0x67/0x1f0

Freed by task 15:
 kasan_save_stack+0x24/0x50
 kasan_save_track+0x14/0x30
 kasan_save_free_info+0x3a/0x60
 __kasan_slab_free+0x54/0x70
 kmem_cache_free+0x14d/0x550
 i_callback+0x46/0x70
";

    #[test]
    fn a_kasan_use_after_free_skips_the_list_helper() {
        let v = parse(REPORT_740).expect("an oops");
        assert_eq!(v.title, "KASAN: slab-use-after-free Read in chrdev_open");
        assert_eq!(v.corrupted, None);
        assert_eq!(
            expected_title(&split_reports(REPORT_740)[0]).as_deref(),
            Some("KASAN: slab-use-after-free Read in chrdev_open")
        );
        assert!(check_reports(REPORT_740, "740").is_empty());
    }

    /// syzkaller `pkg/report/testdata/linux/report/738` (TITLE: general protection
    /// fault in mremap), first lines, with its console prefixes: the RIP frame loses
    /// its `__se_sys_` prefix, and the `? ` frames are left out.
    const REPORT_738: &str = "\
[   89.184911][ T5827] Oops: general protection fault, probably for non-canonical address 0xdffffc0000000004: 0000 [#1] SMP KASAN PTI
[   89.196849][ T5827] KASAN: null-ptr-deref in range [0x0000000000000020-0x0000000000000027]
[   89.205390][ T5827] CPU: 1 UID: 0 PID: 5827 Comm: syz-executor187 Not tainted 6.14.0-syzkaller-12456-gacc4d5ff0b61 #0 PREEMPT(full) 
[   89.217482][ T5827] Hardware name: Google Google Compute Engine/Google Compute Engine, BIOS Google 02/12/2025
[   89.227562][ T5827] RIP: 0010:__se_sys_mremap+0x25fa/0x2c00
[   89.252997][ T5827] RSP: 0018:ffffc9000414fb40 EFLAGS: 00010246
[   89.338872][ T5827] Call Trace:
[   89.342342][ T5827]  <TASK>
[   89.345285][ T5827]  ? __pfx___se_sys_mremap+0x10/0x10
[   89.350599][ T5827]  ? _raw_spin_lock_irq+0xdf/0x120
[   89.386738][ T5827]  do_syscall_64+0xf3/0x230
[   89.391249][ T5827]  ? clear_bhb_loop+0x45/0xa0
[   89.396018][ T5827]  entry_SYSCALL_64_after_hwframe+0x77/0x7f
[   89.474461][ T5827]  </TASK>
";

    #[test]
    fn a_general_protection_fault_takes_the_rip_frame() {
        let text = strip_console_prefix(REPORT_738);
        assert!(text.starts_with("Oops: general protection fault"));
        assert!(text.contains("\n ? __pfx___se_sys_mremap+0x10/0x10\n"));
        let v = parse(&text).expect("an oops");
        assert_eq!(v.title, "general protection fault in mremap");
        assert_eq!(v.corrupted, None);
        assert_eq!(
            expected_title(&text).as_deref(),
            Some("general protection fault in mremap")
        );
    }

    /// syzkaller `pkg/report/testdata/linux/report/5` (TITLE: KASAN: invalid-free in
    /// selinux_tun_dev_free_security), console prefixes and `? ` frames as in the file,
    /// trimmed: double-free and invalid-free both get syzkaller's `invalid-free`.
    const REPORT_5: &str = "\
[   96.255274] ==================================================================
[   96.262735] BUG: KASAN: double-free or invalid-free in selinux_tun_dev_free_security+0x15/0x20
[   96.271481] 
[   96.273098] CPU: 0 PID: 11514 Comm: syz-executor5 Not tainted 4.12.0-rc7+ #2
[   96.289602] Call Trace:
[   96.292180]  dump_stack+0x194/0x257
[   96.295796]  ? arch_local_irq_restore+0x53/0x53
[   96.310565]  print_address_description+0x7f/0x260
[   96.325919]  kasan_report_double_free+0x55/0x80
[   96.330577]  kasan_slab_free+0xa0/0xc0
[   96.334450]  kfree+0xd3/0x260
[   96.337545]  selinux_tun_dev_free_security+0x15/0x20
[   96.342636]  security_tun_dev_free_security+0x48/0x80
[   96.460931] 
[   96.462552] Allocated by task 11514:
[   96.466258]  save_stack_trace+0x16/0x20
[   96.470212]  save_stack+0x43/0xd0
[   96.473649]  kasan_kmalloc+0xaa/0xd0
";

    #[test]
    fn a_double_free_is_an_invalid_free() {
        let text = strip_console_prefix(REPORT_5);
        let v = parse(&text).expect("an oops");
        assert_eq!(
            v.title,
            "KASAN: invalid-free in selinux_tun_dev_free_security"
        );
        assert_eq!(v.corrupted, None);
        assert!(check_reports(&text, "5").is_empty());
    }

    #[test]
    fn a_stack_start_without_frames_is_corrupted() {
        // REPORT_740 with its Freed-by stack cut down to its title line and blank lines.
        let cut = REPORT_740.split("Freed by task 15:").next().unwrap();
        let text =
            format!("{cut}Freed by task 15:\n\n\n\n\nMemory state around the buggy address:\n");
        let v = parse(&text).expect("an oops");
        assert_eq!(v.corrupted, Some("no frames in a stack trace"));
        assert_eq!(check_reports(&text, "t").len(), 1);
    }

    #[test]
    fn a_report_without_access_line_or_trace_is_corrupted() {
        // A header line alone (the access and the call trace lost): the catch-all
        // format, marked corrupted.
        let v = parse("BUG: KASAN: slab-out-of-bounds in func+0x1/0x2\n").expect("an oops");
        assert_eq!(v.title, "KASAN: slab-out-of-bounds in func");
        assert!(v.corrupted.is_some());
        // A timestamp inside the title line.
        let v = parse("BUG: KASAN: slab-out-of-bounds in f+0x1/0x2 [   12.345]\n").unwrap();
        assert!(v.corrupted.is_some());
        // Trace frames that do not parse (no `+0x`): no guilty frame when the BUG
        // line's function is skipped.
        let v = parse(
            "BUG: KASAN: slab-out-of-bounds in memcpy+0x1/0x2\nRead of size 1 at addr 0000 by task t/1\nCall Trace:\n <TASK>\n 0x401000\n 0x401010\n </TASK>\n",
        )
        .unwrap();
        assert_eq!(v.title, "KASAN: slab-out-of-bounds Read in corrupted");
        assert!(v.corrupted.is_some());
    }

    #[test]
    fn reports_are_split_at_oops_lines_only() {
        let text = format!(
            "x\n{REPORT_740}kasan: SEGV on unknown address (general protection fault) (pc 0)\n{{\"title\":\"BUG: KASAN: x\"}}\n{}",
            strip_console_prefix(REPORT_5)
        );
        let r = split_reports(&text);
        assert_eq!(r.len(), 2);
        assert!(r[0].starts_with("BUG: KASAN: slab-use-after-free"));
        assert!(r[0].contains("kasan: SEGV"));
        assert!(r[1].starts_with("BUG: KASAN: double-free or invalid-free"));
        assert!(check_reports(&text, "t").is_empty());
    }

    #[test]
    fn titles_are_cleaned_as_syzkaller_cleans_them() {
        assert_eq!(
            clean_title("KASAN: a  b\tc ffff8880aaaa"),
            "KASAN: a b c ADDR"
        );
        assert_eq!(clean_title("x in func+0x10/0x20 at 12"), "x in func at NUM");
    }
}
