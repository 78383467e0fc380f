//! Reports, for every mode: the once/multi-shot gate, the recursion guard, the fault
//! policy, and the exact text of Linux's `mm/kasan/report.c` (or one JSON object per
//! line with `kasan.report_format=json`).
//!
//! A report is built from a [`Bug`] (what happened), the [`Describe`] answers of the
//! host's allocators (which object the address belongs to, its tracks) and the
//! [`Platform`] (task, symbols, console). Nothing here allocates: text is formatted into
//! a fixed buffer and flushed to the console in pieces while the report lock is held.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};

use crate::config::{Config, Fault, Format};
use crate::generic;
use crate::platform::{Platform, Symbol};
use crate::shadow::{encoding, Shadow, GRANULE_SIZE};
use crate::stack::{Handle, StackDepot};
use crate::sync::SpinLock;

/// What kind of bug a report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A bad load or store.
    Access,
    /// A free of a pointer that is not the start of a live object.
    InvalidFree,
    /// A free of an object that is already free.
    DoubleFree,
}

/// One bad event, as the checks and free hooks see it.
#[derive(Debug, Clone, Copy)]
pub struct Bug<'a> {
    /// The kind of bug.
    pub kind: Kind,
    /// The accessed (or freed) address.
    pub addr: usize,
    /// Bytes accessed (0 for frees).
    pub size: usize,
    /// Whether the access was a write (frees count as writes for `panic_on_write`).
    pub is_write: bool,
    /// Return addresses of the call trace, innermost first; the first is the address
    /// in the code that made the access (`_RET_IP_`).
    pub trace: &'a [usize],
}

/// An alloc or free track: who did it, where, and when.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Track {
    /// The task id.
    pub pid: u32,
    /// The saved stack.
    pub stack: Handle,
    /// The CPU, for `kasan.extra_info`.
    pub cpu: u32,
    /// Nanoseconds since boot, for `kasan.extra_info`.
    pub time_ns: u64,
}

/// A cache name, copied so the description outlives locks (Linux's names are < 32).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Name {
    bytes: [u8; 32],
    len: u8,
}

impl Name {
    /// A name, truncated to 32 bytes.
    pub fn new(name: &str) -> Name {
        let mut len = name.len().min(32);
        while !name.is_char_boundary(len) {
            len -= 1;
        }
        let mut bytes = [0; 32];
        bytes[..len].copy_from_slice(&name.as_bytes()[..len]);
        Name {
            bytes,
            len: len as u8,
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.bytes[..self.len as usize]).unwrap_or("?")
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// Where a heap object lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backing {
    /// A slot in a slab cache.
    Slab,
    /// Whole pages (a large kmalloc or a page-allocator block), of this order.
    Pages(u32),
    /// A vmalloc area: the mapping `[start, end)` (its guard page included).
    Vmalloc {
        /// First address of the mapping.
        start: usize,
        /// One past the last (after the guard page).
        end: usize,
    },
}

/// A heap object an address belongs to.
#[derive(Debug, Clone, Copy)]
pub struct ObjectInfo {
    /// The cache's name (`kmalloc-64`); for pages, the allocator's name.
    pub cache: Name,
    /// The object's first byte.
    pub object: usize,
    /// The cache's object size (what Linux prints after "of size").
    pub object_size: usize,
    /// Slab or pages.
    pub backing: Backing,
    /// Whether the object is free (freed or in quarantine).
    pub freed: bool,
    /// The allocation track.
    pub alloc: Option<Track>,
    /// The free track, if it has been freed.
    pub free: Option<Track>,
    /// Aux stacks, newest first ("Last potentially related work creation").
    pub aux: [Handle; 2],
}

/// What a host's allocators know about an address.
pub trait Describe {
    /// The heap object `addr` falls in (its slot, including the redzone after it).
    fn object(&self, addr: usize) -> Option<ObjectInfo>;
    /// The current task's stack, `[low, high)`.
    fn stack_bounds(&self) -> Option<(usize, usize)>;
}

/// The report gate and counters; one per runtime.
#[derive(Debug)]
pub struct Reporter {
    lock: SpinLock<()>,
    owner: AtomicU32,
    reported: AtomicBool,
    count: AtomicUsize,
}

impl Default for Reporter {
    fn default() -> Self {
        Self::new()
    }
}

/// Everything a report needs besides the bug.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    /// The runtime's configuration.
    pub config: &'a Config,
    /// The shadow.
    pub shadow: &'a Shadow,
    /// The host.
    pub platform: &'a dyn Platform,
    /// The host's allocators.
    pub describe: &'a dyn Describe,
    /// The stack depot the tracks point into.
    pub depot: &'a StackDepot,
}

impl fmt::Debug for Context<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context").finish_non_exhaustive()
    }
}

const RULE: &str = "==================================================================";

impl Reporter {
    /// A reporter that has reported nothing yet.
    pub const fn new() -> Reporter {
        Reporter {
            lock: SpinLock::new(()),
            owner: AtomicU32::new(0),
            reported: AtomicBool::new(false),
            count: AtomicUsize::new(0),
        }
    }

    /// Waits for any report in progress and blocks new ones (before `fork`), so a
    /// child never inherits a half-written report or its locks.
    pub fn lock_all(&self) {
        core::mem::forget(self.lock.lock());
    }

    /// Releases the lock taken by [`Reporter::lock_all`].
    ///
    /// # Safety
    ///
    /// The caller must hold it through `lock_all`.
    pub unsafe fn unlock_all(&self) {
        // SAFETY: forwarded from the caller.
        unsafe { self.lock.force_unlock() };
    }

    /// Bugs reported so far.
    pub fn count(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }

    /// Reports `bug` unless the gate says no; returns whether it was printed (Linux's
    /// `kasan_report`). Applies `kasan.fault` afterwards.
    pub fn report(&self, ctx: &Context<'_>, bug: &Bug<'_>) -> bool {
        let task = ctx.platform.task();
        // A report raised while this task is already reporting (a check inside the
        // report path) is dropped rather than deadlocking on the lock below.
        if self.owner.load(Ordering::Relaxed) == task.pid {
            return false;
        }
        if !ctx.config.multi_shot && self.reported.swap(true, Ordering::Relaxed) {
            return false;
        }
        let guard = self.lock.lock();
        self.owner.store(task.pid, Ordering::Relaxed);
        let index = self.count.fetch_add(1, Ordering::Relaxed);
        let mut out = Out::new(ctx.platform);
        match ctx.config.format {
            Format::Text => render_text(&mut out, ctx, bug, index > 0),
            Format::Json => render_json(&mut out, ctx, bug),
        }
        out.flush();
        self.owner.store(0, Ordering::Relaxed);
        drop(guard);
        let write = bug.is_write || bug.kind != Kind::Access;
        match ctx.config.fault {
            Fault::Panic => ctx.platform.halt("kasan.fault=panic set ...\n"),
            Fault::PanicOnWrite if write => {
                ctx.platform.halt("kasan.fault=panic_on_write set ...\n")
            }
            _ => {}
        }
        if ctx.config.panic_on_warn && !ctx.config.multi_shot {
            ctx.platform.halt("panic_on_warn set ...\n");
        }
        true
    }
}

impl Reporter {
    /// Reports a fault of inline-instrumented code on an address without shadow: its
    /// shadow load hit `shadow_addr`, which is not mapped (Linux's
    /// `kasan_non_canonical_hook`, printed with the general protection fault it
    /// explains). Always printed: the task dies next.
    pub fn report_shadow_fault(&self, ctx: &Context<'_>, shadow_addr: usize, trace: &[usize]) {
        let addr = ctx.shadow.shadow_to_mem(shadow_addr);
        let bug_type = if addr < generic::PAGE_SIZE {
            "null-ptr-deref"
        } else if addr < ctx.shadow.range().0 {
            "probably user-memory-access"
        } else {
            "maybe wild-memory-access"
        };
        let _guard = self.lock.lock();
        self.count.fetch_add(1, Ordering::Relaxed);
        let mut out = Out::new(ctx.platform);
        let task = ctx.platform.task();
        let ip = trace.first().copied().unwrap_or(0);
        if ctx.config.format == Format::Json {
            let _ = write!(
                out,
                "{{\"mode\":\"generic\",\"bug_type\":\"{}\",\"access\":\"unknown\",\"size\":{GRANULE_SIZE},\"addr\":\"{addr:#x}\",\"ip\":\"{ip:#x}\",\"task\":{{\"comm\":{},\"pid\":{}}},\"frames\":",
                bug_type.trim_start_matches("maybe ").trim_start_matches("probably "),
                Json(task.comm()),
                task.pid
            );
            json_frames(&mut out, ctx, trace);
            let _ = out.write_str("}\n");
        } else {
            let _ = writeln!(
                out,
                "general protection fault, probably for non-canonical address {shadow_addr:#x}: 0000 [#1] SMP KASAN"
            );
            let _ = writeln!(
                out,
                "KASAN: {bug_type} in range [{addr:#018x}-{:#018x}]",
                addr.wrapping_add(GRANULE_SIZE - 1)
            );
            let _ = writeln!(
                out,
                "CPU: {} PID: {} Comm: {} Not tainted kasan-{}",
                ctx.platform.cpu(),
                task.pid,
                task.comm(),
                env!("CARGO_PKG_VERSION")
            );
            let _ = out.write_str("RIP: ");
            write_symbol(&mut out, ctx, ip, false);
            let _ = out.write_str("\nCall Trace:\n <TASK>\n");
            for (i, &pc) in trace.iter().enumerate() {
                write_frame(&mut out, ctx, pc, i > 0);
            }
            let _ = out.write_str(" </TASK>\n");
        }
        out.flush();
    }
}

/// A fixed buffer in front of the console.
struct Out<'a> {
    platform: &'a dyn Platform,
    buf: [u8; 2048],
    len: usize,
}

impl<'a> Out<'a> {
    fn new(platform: &'a dyn Platform) -> Self {
        Out {
            platform,
            buf: [0; 2048],
            len: 0,
        }
    }

    fn flush(&mut self) {
        if self.len > 0 {
            self.platform.write(&self.buf[..self.len]);
            self.len = 0;
        }
    }
}

impl Write for Out<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut bytes = s.as_bytes();
        while !bytes.is_empty() {
            if self.len == self.buf.len() {
                self.flush();
            }
            let n = bytes.len().min(self.buf.len() - self.len);
            self.buf[self.len..self.len + n].copy_from_slice(&bytes[..n]);
            self.len += n;
            bytes = &bytes[n..];
        }
        Ok(())
    }
}

/// `%px`: 16 zero-padded lower-case hex digits.
struct Px(usize);

impl fmt::Display for Px {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// Where the buggy address is, once classified.
struct Analysis {
    bug_type: &'static str,
    first_bad: usize,
    has_metadata: bool,
    object: Option<ObjectInfo>,
}

fn analyze(ctx: &Context<'_>, bug: &Bug<'_>) -> Analysis {
    let shadow = ctx.shadow;
    let has_metadata = shadow.has_metadata(bug.addr);
    let (bug_type, first_bad) = match bug.kind {
        Kind::InvalidFree => ("invalid-free", bug.addr),
        Kind::DoubleFree => ("double-free", bug.addr),
        Kind::Access => {
            let first_bad = shadow.first_bad_addr(bug.addr, bug.size);
            (
                generic::bug_type(shadow, bug.addr, bug.size, first_bad),
                first_bad,
            )
        }
    };
    let object = if has_metadata {
        ctx.describe.object(bug.addr)
    } else {
        None
    };
    Analysis {
        bug_type,
        first_bad,
        has_metadata,
        object,
    }
}

/// Writes ` func+0xoff/0xsize[ file:line]` for one frame, or ` 0x<pc>` if unknown,
/// preceded by one ` name file:line [inline]` line per function inlined there, as
/// Linux's `decode_stacktrace.sh` shows them.
fn write_frame(out: &mut Out<'_>, ctx: &Context<'_>, pc: usize, is_return: bool) {
    ctx.platform.inlined(pc, is_return, &mut |s: &Symbol<'_>| {
        let _ = write!(out, " {}", s.name);
        if let (Some(file), Some(line)) = (s.file, s.line) {
            let _ = write!(out, " {file}:{line}");
        }
        let _ = out.write_str(" [inline]\n");
    });
    let mut found = false;
    ctx.platform
        .symbolize(pc, is_return, &mut |s: &Symbol<'_>| {
            found = true;
            let _ = write!(out, " {}+{:#x}/{:#x}", s.name, s.offset, s.size);
            if let (Some(file), Some(line)) = (s.file, s.line) {
                let _ = write!(out, " {file}:{line}");
            }
        });
    if !found {
        let _ = write!(out, " {pc:#x}");
    }
    let _ = out.write_str("\n");
}

/// `%pS` of `pc` without a newline or leading space.
fn write_symbol(out: &mut Out<'_>, ctx: &Context<'_>, pc: usize, is_return: bool) {
    let mut found = false;
    ctx.platform
        .symbolize(pc, is_return, &mut |s: &Symbol<'_>| {
            found = true;
            let _ = write!(out, "{}+{:#x}/{:#x}", s.name, s.offset, s.size);
        });
    if !found {
        let _ = write!(out, "{pc:#x}");
    }
}

fn write_stack(out: &mut Out<'_>, ctx: &Context<'_>, handle: Handle) {
    let frames = ctx.depot.fetch(handle);
    if frames.is_empty() {
        let _ = out.write_str(" (stack is not available)\n");
    }
    for &pc in frames {
        write_frame(out, ctx, pc, true);
    }
}

fn write_track(out: &mut Out<'_>, ctx: &Context<'_>, what: &str, track: &Track) {
    if ctx.config.extra_info {
        let _ = writeln!(
            out,
            "{what} by task {} on cpu {} at {}.{:06}s:",
            track.pid,
            track.cpu,
            track.time_ns / 1_000_000_000,
            track.time_ns % 1_000_000_000 / 1000
        );
    } else {
        let _ = writeln!(out, "{what} by task {}:", track.pid);
    }
    write_stack(out, ctx, track.stack);
    let _ = out.write_str("\n");
}

/// The relation of `addr` to an object's region `[object, object + size)`.
fn relation(addr: usize, object: usize, size: usize) -> (&'static str, usize) {
    if addr < object {
        ("to the left", object - addr)
    } else if addr >= object + size {
        ("to the right", addr - (object + size))
    } else {
        ("inside", addr - object)
    }
}

/// The region size a report shows: the valid bytes read from shadow, or for a freed
/// object (whose shadow says nothing) the cache's object size.
fn region_size(ctx: &Context<'_>, o: &ObjectInfo) -> usize {
    match ctx.shadow.valid_size(o.object, o.object_size) {
        0 => o.object_size,
        n => n,
    }
}

/// A stack frame the compiler described: its base, description string and pc.
struct Frame {
    base: usize,
    descr: usize,
    pc: usize,
}

/// Finds the instrumented frame holding `addr` (which is on the current stack): walk
/// the shadow down to the frame's left redzone, then past it; the frame base holds the
/// compiler's magic word, the description and the function's pc.
fn find_frame(ctx: &Context<'_>, addr: usize, low: usize) -> Option<Frame> {
    let shadow = ctx.shadow;
    let mut p = addr & !(GRANULE_SIZE - 1);
    while p >= low && shadow.byte(p)? != encoding::STACK_LEFT {
        p = p.checked_sub(GRANULE_SIZE)?;
    }
    while p >= low && shadow.byte(p)? == encoding::STACK_LEFT {
        p = p.checked_sub(GRANULE_SIZE)?;
    }
    let base = p + GRANULE_SIZE;
    let read = |a: usize| ctx.platform.read_word(a);
    (read(base)? == encoding::STACK_FRAME_MAGIC).then_some(())?;
    Some(Frame {
        base,
        descr: read(base + 8)?,
        pc: read(base + 16)?,
    })
}

/// Reads up to `buf.len()` bytes of a NUL-terminated string through the platform.
fn read_cstr<'b>(ctx: &Context<'_>, addr: usize, buf: &'b mut [u8]) -> &'b str {
    let mut n = 0;
    'outer: while n < buf.len() {
        let Some(word) = ctx.platform.read_word(addr + n) else {
            break;
        };
        for b in word.to_le_bytes() {
            if b == 0 || n == buf.len() {
                break 'outer;
            }
            buf[n] = b;
            n += 1;
        }
    }
    core::str::from_utf8(&buf[..n]).unwrap_or("")
}

/// Prints "This frame has N objects" from a compiler frame description:
/// `"<count> <offset> <size> <name length> <name[:line]> ..."`. The name is taken by
/// its length, so an unnamed object (length 0, as clang gives a constant `alloca`)
/// is listed too.
fn write_frame_objects(out: &mut Out<'_>, descr: &str) {
    fn number(rest: &mut &str) -> Option<usize> {
        let s = rest.trim_start_matches(' ');
        let end = s.find(' ').unwrap_or(s.len());
        let n = s[..end].parse().ok()?;
        *rest = &s[end..];
        Some(n)
    }
    let mut rest = descr;
    let Some(count) = number(&mut rest) else {
        return;
    };
    let _ = writeln!(
        out,
        "This frame has {count} {}:",
        if count == 1 { "object" } else { "objects" }
    );
    for _ in 0..count {
        let (Some(off), Some(size), Some(len)) =
            (number(&mut rest), number(&mut rest), number(&mut rest))
        else {
            break;
        };
        // One space, then exactly `len` bytes of name (`name` or `name:line`).
        let body = rest.strip_prefix(' ').unwrap_or(rest);
        let Some(name) = body.get(..len) else {
            break;
        };
        rest = &body[len..];
        let name = name.split(':').next().unwrap_or(name);
        let _ = writeln!(out, " [{off}, {}) '{name}'", off + size);
    }
    let _ = out.write_str("\n");
}

fn write_description(out: &mut Out<'_>, ctx: &Context<'_>, bug: &Bug<'_>, a: &Analysis) {
    if let Some(o) = &a.object {
        if let Some(t) = &o.alloc {
            write_track(out, ctx, "Allocated", t);
        }
        if let Some(t) = &o.free {
            write_track(out, ctx, "Freed", t);
        }
        if o.aux[0].is_some() {
            let _ = out.write_str("Last potentially related work creation:\n");
            write_stack(out, ctx, o.aux[0]);
            let _ = out.write_str("\n");
        }
        if o.aux[1].is_some() {
            let _ = out.write_str("Second to last potentially related work creation:\n");
            write_stack(out, ctx, o.aux[1]);
            let _ = out.write_str("\n");
        }
        let size = region_size(ctx, o);
        let (rel, dist) = relation(bug.addr, o.object, size);
        let state = if o.freed { "freed " } else { "allocated " };
        if let Backing::Vmalloc { start, end } = o.backing {
            // Linux describes a vmalloc address by its mapping alone.
            let _ = out.write_str("The buggy address belongs to the virtual mapping at\n");
            let _ = writeln!(out, " [{}, {}) created by:", Px(start), Px(end));
            let _ = out.write_str(" ");
            match o
                .alloc
                .and_then(|t| ctx.depot.fetch(t.stack).first().copied())
            {
                Some(pc) => write_symbol(out, ctx, pc, true),
                None => {
                    let _ = out.write_str("(unknown)");
                }
            }
            let _ = out.write_str("\n\n");
            return;
        }
        if let Backing::Slab = o.backing {
            let _ = writeln!(
                out,
                "The buggy address belongs to the object at {}",
                Px(o.object)
            );
            let _ = writeln!(
                out,
                " which belongs to the cache {} of size {}",
                o.cache.as_str(),
                o.object_size
            );
        }
        let _ = writeln!(out, "The buggy address is located {dist} bytes {rel} of");
        let _ = writeln!(
            out,
            " {state}{size}-byte region [{}, {})",
            Px(o.object),
            Px(o.object + size)
        );
        let _ = out.write_str("\n");
        if let Backing::Pages(order) = o.backing {
            let _ = out.write_str("The buggy address belongs to the physical page:\n");
            let _ = writeln!(
                out,
                "page: refcount:{} mapcount:0 mapping:0000000000000000 index:0x0 pfn:{:#x}",
                u32::from(!o.freed),
                o.object >> 12
            );
            let _ = writeln!(out, "head: order:{order}");
            let _ = out.write_str("page dumped because: kasan: bad access detected\n\n");
        }
        return;
    }
    if let Some((low, high)) = ctx.describe.stack_bounds() {
        if (low..high).contains(&bug.addr) {
            let task = ctx.platform.task();
            let _ = writeln!(
                out,
                "The buggy address belongs to stack of task {}/{}",
                task.comm(),
                task.pid
            );
            if let Some(frame) = find_frame(ctx, bug.addr, low) {
                let _ = writeln!(
                    out,
                    " and is located at offset {} in frame:",
                    bug.addr - frame.base
                );
                let _ = out.write_str(" ");
                write_symbol(out, ctx, frame.pc, false);
                let _ = out.write_str("\n\n");
                let mut buf = [0u8; 512];
                let descr = read_cstr(ctx, frame.descr, &mut buf);
                write_frame_objects(out, descr);
            } else {
                let _ = out.write_str("\n");
            }
            return;
        }
    }
    let mut is_variable = false;
    ctx.platform
        .symbolize(bug.addr, false, &mut |_| is_variable = true);
    if is_variable {
        let _ = out.write_str("The buggy address belongs to the variable:\n ");
        write_symbol(out, ctx, bug.addr, false);
        let _ = out.write_str("\n\n");
    }
}

/// Linux's memory dump geometry: five rows of 16 shadow bytes, two before the row
/// holding `addr` and two after. Yields (row address, is the buggy row, bytes).
fn shadow_rows<'a>(
    ctx: &Context<'a>,
    addr: usize,
) -> impl Iterator<Item = (usize, bool, [Option<u8>; 16])> + 'a {
    const ROW: usize = 16 * GRANULE_SIZE;
    let shadow = ctx.shadow;
    let row0 = addr & !(ROW - 1);
    (0..5usize).map(move |i| {
        let row = row0.wrapping_sub(2 * ROW).wrapping_add(i * ROW);
        let mut bytes = [None; 16];
        shadow.read_row(row, &mut bytes);
        (row, row == row0, bytes)
    })
}

/// The five rows of 16 shadow bytes around `addr`, with the `>` marker and caret.
fn write_memory_state(out: &mut Out<'_>, ctx: &Context<'_>, addr: usize) {
    let _ = out.write_str("Memory state around the buggy address:\n");
    for (row, buggy, bytes) in shadow_rows(ctx, addr) {
        let _ = write!(out, "{}{}:", if buggy { '>' } else { ' ' }, Px(row));
        for b in bytes {
            match b {
                Some(b) => {
                    let _ = write!(out, " {b:02x}");
                }
                None => {
                    let _ = out.write_str(" ??");
                }
            }
        }
        let _ = out.write_str("\n");
        if buggy {
            // Linux: `%*c` with width 3 + 2 * sizeof(long) + index * 3 + 1.
            let column = 3 + 16 + ((addr - row) / GRANULE_SIZE) * 3 + 1;
            for _ in 0..column - 1 {
                let _ = out.write_str(" ");
            }
            let _ = out.write_str("^\n");
        }
    }
}

fn render_text(out: &mut Out<'_>, ctx: &Context<'_>, bug: &Bug<'_>, tainted: bool) {
    let a = analyze(ctx, bug);
    let task = ctx.platform.task();
    let ip = bug.trace.first().copied().unwrap_or(0);
    let _ = writeln!(out, "{RULE}");
    let _ = write!(out, "BUG: KASAN: {} in ", a.bug_type);
    write_symbol(out, ctx, ip, true);
    let _ = out.write_str("\n");
    match bug.kind {
        Kind::Access if bug.size == 0 => {
            let _ = write!(
                out,
                "{} at addr",
                if bug.is_write { "Write" } else { "Read" }
            );
        }
        Kind::Access => {
            let _ = write!(
                out,
                "{} of size {} at addr",
                if bug.is_write { "Write" } else { "Read" },
                bug.size
            );
        }
        Kind::InvalidFree | Kind::DoubleFree => {
            let _ = out.write_str("Free of addr");
        }
    }
    let _ = writeln!(
        out,
        " {} by task {}/{}",
        Px(bug.addr),
        task.comm(),
        task.pid
    );
    let _ = out.write_str("\n");
    let _ = writeln!(
        out,
        "CPU: {} PID: {} Comm: {} {} kasan-{}",
        ctx.platform.cpu(),
        task.pid,
        task.comm(),
        if tainted {
            "Tainted: G    B"
        } else {
            "Not tainted"
        },
        env!("CARGO_PKG_VERSION")
    );
    let _ = out.write_str("Call Trace:\n <TASK>\n");
    for &pc in bug.trace {
        write_frame(out, ctx, pc, true);
    }
    let _ = out.write_str(" </TASK>\n\n");
    if a.has_metadata {
        write_description(out, ctx, bug, &a);
        write_memory_state(out, ctx, a.first_bad);
    }
    let _ = writeln!(out, "{RULE}");
}

/// A JSON string literal.
struct Json<'a>(&'a str);

impl fmt::Display for Json<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for c in self.0.chars() {
            match c {
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                c if (c as u32) < 0x20 => write!(f, "\\u{:04x}", c as u32)?,
                c => f.write_char(c)?,
            }
        }
        f.write_str("\"")
    }
}

fn json_frames(out: &mut Out<'_>, ctx: &Context<'_>, frames: &[usize]) {
    let _ = out.write_str("[");
    for (i, &pc) in frames.iter().enumerate() {
        let _ = write!(out, "{}{{\"ip\":\"{pc:#x}\"", if i > 0 { "," } else { "" });
        ctx.platform.symbolize(pc, true, &mut |s: &Symbol<'_>| {
            let _ = write!(
                out,
                ",\"function\":{},\"offset\":{},\"size\":{}",
                Json(s.name),
                s.offset,
                s.size
            );
            if let Some(file) = s.file {
                let _ = write!(out, ",\"file\":{}", Json(file));
            }
            if let Some(line) = s.line {
                let _ = write!(out, ",\"line\":{line}");
            }
        });
        let _ = out.write_str("}");
    }
    let _ = out.write_str("]");
}

fn json_track(out: &mut Out<'_>, ctx: &Context<'_>, track: Option<&Track>) {
    match track {
        None => {
            let _ = out.write_str("null");
        }
        Some(t) => {
            let _ = write!(out, "{{\"task\":{},\"cpu\":{},\"frames\":", t.pid, t.cpu);
            json_frames(out, ctx, ctx.depot.fetch(t.stack));
            let _ = out.write_str("}");
        }
    }
}

fn render_json(out: &mut Out<'_>, ctx: &Context<'_>, bug: &Bug<'_>) {
    let a = analyze(ctx, bug);
    let task = ctx.platform.task();
    let ip = bug.trace.first().copied().unwrap_or(0);
    let access = match bug.kind {
        Kind::Access if bug.is_write => "write",
        Kind::Access => "read",
        _ => "free",
    };
    let _ = write!(
        out,
        "{{\"mode\":\"generic\",\"bug_type\":{},\"access\":\"{access}\",\"size\":{},\"addr\":\"{:#x}\",\"ip\":\"{ip:#x}\",\"function\":",
        Json(a.bug_type),
        bug.size,
        bug.addr
    );
    let mut found = false;
    ctx.platform.symbolize(ip, true, &mut |s: &Symbol<'_>| {
        found = true;
        let _ = write!(out, "{}", Json(s.name));
    });
    if !found {
        let _ = out.write_str("null");
    }
    let _ = write!(
        out,
        ",\"task\":{{\"comm\":{},\"pid\":{}}},\"frames\":",
        Json(task.comm()),
        task.pid
    );
    json_frames(out, ctx, bug.trace);
    let _ = out.write_str(",\"alloc_track\":");
    json_track(out, ctx, a.object.as_ref().and_then(|o| o.alloc.as_ref()));
    let _ = out.write_str(",\"free_track\":");
    json_track(out, ctx, a.object.as_ref().and_then(|o| o.free.as_ref()));
    let _ = out.write_str(",\"object\":");
    match &a.object {
        None => {
            let _ = out.write_str("null");
        }
        Some(o) => {
            let size = region_size(ctx, o);
            let (rel, dist) = relation(bug.addr, o.object, size);
            let _ = write!(
                out,
                "{{\"cache\":{},\"start\":\"{:#x}\",\"size\":{size},\"object_size\":{},\"state\":\"{}\",\"offset_relation\":\"{}\",\"distance\":{dist}}}",
                Json(o.cache.as_str()),
                o.object,
                o.object_size,
                if o.freed { "freed" } else { "allocated" },
                match rel {
                    "to the left" => "left",
                    "to the right" => "right",
                    _ => "inside",
                }
            );
        }
    }
    let _ = out.write_str(",\"shadow\":");
    if a.has_metadata {
        let _ = out.write_str("[");
        for (i, (row, buggy, bytes)) in shadow_rows(ctx, a.first_bad).enumerate() {
            let _ = write!(
                out,
                "{}{{\"addr\":\"{row:#x}\",\"buggy\":{buggy},\"bytes\":[",
                if i > 0 { "," } else { "" },
            );
            for (j, b) in bytes.iter().enumerate() {
                let _ = match b {
                    Some(b) => write!(out, "{}{b}", if j > 0 { "," } else { "" }),
                    None => write!(out, "{}null", if j > 0 { "," } else { "" }),
                };
            }
            let _ = out.write_str("]}");
        }
        let _ = out.write_str("]");
    } else {
        let _ = out.write_str("null");
    }
    let _ = out.write_str("}\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shadow::encoding::*;
    use crate::testing::{FakeMemory, FakePlatform};
    extern crate std;
    use std::string::String;

    struct Heap {
        object: usize,
        freed: bool,
        alloc: Handle,
        free: Handle,
    }

    impl Describe for Heap {
        fn object(&self, addr: usize) -> Option<ObjectInfo> {
            (addr >= self.object && addr < self.object + 128).then(|| ObjectInfo {
                cache: Name::new("kmalloc-128"),
                object: self.object,
                object_size: 128,
                backing: Backing::Slab,
                freed: self.freed,
                alloc: Some(Track {
                    pid: 7,
                    stack: self.alloc,
                    ..Track::default()
                }),
                free: self.freed.then_some(Track {
                    pid: 8,
                    stack: self.free,
                    ..Track::default()
                }),
                aux: [Handle::NONE; 2],
            })
        }
        fn stack_bounds(&self) -> Option<(usize, usize)> {
            None
        }
    }

    struct Pools;
    impl crate::stack::PoolSource for Pools {
        fn map_pool(&self, bytes: usize) -> Option<*mut u8> {
            Some(std::vec![0u64; bytes / 8].leak().as_mut_ptr() as *mut u8)
        }
    }

    fn run(config: &Config, freed: bool, access: (usize, usize, bool)) -> (String, bool) {
        let mem = FakeMemory::new(4096);
        let shadow = mem.shadow();
        let object = mem.base() + 1024;
        shadow.poison(mem.base(), 4096, SLAB_REDZONE);
        if freed {
            shadow.poison(object, 128, SLAB_FREE);
        } else {
            shadow.unpoison(object, 123);
        }
        let depot = StackDepot::new();
        let heap = Heap {
            object,
            freed,
            alloc: depot.save(&[0x1010, 0x1120], true, &Pools),
            free: depot.save(&[0x1018], true, &Pools),
        };
        let platform = FakePlatform::default();
        let reporter = Reporter::new();
        let ctx = Context {
            config,
            shadow: &shadow,
            platform: &platform,
            describe: &heap,
            depot: &depot,
        };
        let bug = Bug {
            kind: Kind::Access,
            addr: object + access.0,
            size: access.1,
            is_write: access.2,
            trace: &[0x1044, 0x1188],
        };
        let printed = reporter.report(&ctx, &bug);
        let text = platform.take();
        // Addresses are test-run specific: show the test memory as if it were at
        // Linux's ffff888000100000.
        let mut fixed = String::new();
        for piece in text.split_inclusive(|c: char| !c.is_ascii_hexdigit()) {
            let word = piece.trim_end_matches(|c: char| !c.is_ascii_hexdigit());
            let value = usize::from_str_radix(word, 16)
                .ok()
                .filter(|_| word.len() == 16);
            match value {
                Some(v) if (mem.base()..mem.base() + 4096).contains(&v) => {
                    let linux = 0xffff888000100000 + (v - mem.base());
                    fixed.push_str(&std::format!("{linux:016x}"));
                    fixed.push_str(&piece[word.len()..]);
                }
                _ => fixed.push_str(piece),
            }
        }
        (fixed, printed)
    }

    #[test]
    fn slab_out_of_bounds_report_is_linux_layout() {
        let (text, printed) = run(&Config::default(), false, (123, 1, true));
        assert!(printed);
        let expected = "\
==================================================================
BUG: KASAN: slab-out-of-bounds in kmalloc_oob_right+0x44/0x100
Write of size 1 at addr ffff88800010047b by task kunit_try_catch/7

CPU: 1 PID: 7 Comm: kunit_try_catch Not tainted kasan-0.1.0
Call Trace:
 <TASK>
 kmalloc_oob_right+0x44/0x100 mm/kasan/kasan_test.c:109
 kunit_try_run_case+0x88/0x100 mm/kasan/kasan_test.c:177
 </TASK>

Allocated by task 7:
 kmalloc_oob_right+0x10/0x100 mm/kasan/kasan_test.c:57
 kunit_try_run_case+0x20/0x100 mm/kasan/kasan_test.c:73

The buggy address belongs to the object at ffff888000100400
 which belongs to the cache kmalloc-128 of size 128
The buggy address is located 0 bytes to the right of
 allocated 123-byte region [ffff888000100400, ffff88800010047b)

Memory state around the buggy address:
 ffff888000100300: fc fc fc fc fc fc fc fc fc fc fc fc fc fc fc fc
 ffff888000100380: fc fc fc fc fc fc fc fc fc fc fc fc fc fc fc fc
>ffff888000100400: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 03
                                                                ^
 ffff888000100480: fc fc fc fc fc fc fc fc fc fc fc fc fc fc fc fc
 ffff888000100500: fc fc fc fc fc fc fc fc fc fc fc fc fc fc fc fc
==================================================================
";
        assert_eq!(text, expected);
    }

    #[test]
    fn use_after_free_prints_both_tracks_and_freed_region() {
        let (text, _) = run(&Config::default(), true, (8, 8, false));
        assert!(text.contains("BUG: KASAN: slab-use-after-free in kmalloc_oob_right+0x44/0x100\n"));
        assert!(
            text.contains("Read of size 8 at addr ffff888000100408 by task kunit_try_catch/7\n")
        );
        assert!(text.contains(
            "Freed by task 8:\n kmalloc_oob_right+0x18/0x100 mm/kasan/kasan_test.c:65\n\n"
        ));
        assert!(text.contains(
            "The buggy address is located 8 bytes inside of\n freed 128-byte region [ffff888000100400, ffff888000100480)\n"
        ));
    }

    #[test]
    fn once_by_default_every_bug_with_multi_shot() {
        let mem = FakeMemory::new(64);
        let shadow = mem.shadow();
        shadow.poison(mem.base(), 64, SLAB_REDZONE);
        let depot = StackDepot::new();
        let heap = Heap {
            object: 0,
            freed: false,
            alloc: Handle::NONE,
            free: Handle::NONE,
        };
        let platform = FakePlatform::default();
        for (multi, expect) in [(false, 1), (true, 3)] {
            let mut config = Config::default();
            config.multi_shot = multi;
            let reporter = Reporter::new();
            let ctx = Context {
                config: &config,
                shadow: &shadow,
                platform: &platform,
                describe: &heap,
                depot: &depot,
            };
            let bug = Bug {
                kind: Kind::Access,
                addr: mem.base(),
                size: 1,
                is_write: false,
                trace: &[],
            };
            for _ in 0..3 {
                reporter.report(&ctx, &bug);
            }
            assert_eq!(reporter.count(), expect);
            assert_eq!(platform.take().matches("BUG: KASAN:").count(), expect);
        }
    }

    #[test]
    fn json_has_the_contract_fields() {
        let mut config = Config::default();
        config.format = Format::Json;
        let (text, _) = run(&config, false, (123, 1, true));
        assert_eq!(text.lines().count(), 1);
        for field in [
            "\"mode\":\"generic\"",
            "\"bug_type\":\"slab-out-of-bounds\"",
            "\"access\":\"write\"",
            "\"size\":1",
            "\"function\":\"kmalloc_oob_right\"",
            "\"task\":{\"comm\":\"kunit_try_catch\",\"pid\":7}",
            "\"file\":\"mm/kasan/kasan_test.c\",\"line\":109",
            "\"alloc_track\":{\"task\":7",
            "\"free_track\":null",
            "\"cache\":\"kmalloc-128\"",
            "\"offset_relation\":\"right\",\"distance\":0",
            "\"buggy\":true",
        ] {
            assert!(text.contains(field), "missing {field} in {text}");
        }
    }

    #[test]
    fn shadow_fault_names_the_range() {
        let mem = FakeMemory::new(64);
        let shadow = mem.shadow();
        let depot = StackDepot::new();
        let heap = Heap {
            object: 0,
            freed: false,
            alloc: Handle::NONE,
            free: Handle::NONE,
        };
        let platform = FakePlatform::default();
        let config = Config::default();
        let ctx = Context {
            config: &config,
            shadow: &shadow,
            platform: &platform,
            describe: &heap,
            depot: &depot,
        };
        let fault = shadow.shadow_addr(0xdead_0000_0000_0000);
        Reporter::new().report_shadow_fault(&ctx, fault, &[0x1044]);
        let text = platform.take();
        assert!(text.contains(
            "KASAN: maybe wild-memory-access in range [0xdead000000000000-0xdead000000000007]\n"
        ));
        assert!(text.starts_with("general protection fault, probably for non-canonical address 0x"));
        assert!(text.contains("RIP: kmalloc_oob_right+0x44/0x100\n"));
    }

    #[test]
    fn frame_objects_by_name_length() {
        let platform = FakePlatform::default();
        let mut out = Out::new(&platform);
        write_frame_objects(&mut out, "2 32 10 0  64 40 5 arr:7");
        out.flush();
        assert_eq!(
            platform.take(),
            "This frame has 2 objects:\n [32, 42) ''\n [64, 104) 'arr'\n\n"
        );
    }

    #[test]
    fn panic_policy_halts_after_printing() {
        let mut config = Config::default();
        config.fault = Fault::PanicOnWrite;
        // A read goes on...
        let (_, printed) = run(&config, false, (123, 1, false));
        assert!(printed);
        // ...a write halts (the fake platform's halt panics).
        let result = std::panic::catch_unwind(|| run(&config, false, (123, 1, true)));
        assert!(result.is_err());
    }
}
