//! Reports, for every mode: the once/multi-shot gate, the recursion guard, the fault
//! policy, and the exact text of Linux's `mm/kasan/report.c` (or one JSON object per
//! line with `kasan.report_format=json`).
//!
//! A report is built from a [`Bug`] (what happened), the [`Describe`] answers of the
//! host's allocators (which object the address belongs to, its tracks) and the
//! [`Platform`] (task, symbols, console). Nothing here allocates: with the report lock
//! held, and on the platform's report stack, text is formatted into the reporter's
//! buffer and handed to the console whole (one `write`; a report bigger than the
//! buffer in whole lines). Bugs raised by the lock holder's own task meanwhile are
//! queued and printed right after.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};

use crate::config::{Config, Fault, Format};
use crate::generic;
use crate::mode::{ReportMode, RingFind};
use crate::platform::{Platform, Symbol, Task};
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

/// What the pages under a heap object are, as Linux's `struct page` says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageKind {
    /// A slab (`page_type: f5(slab)`).
    Slab,
    /// A large kmalloc (`page_type: f8(large_kmalloc)`, Linux 6.15+).
    LargeKmalloc,
    /// Page-allocator pages (`__get_free_pages`): no page type.
    Pages,
    /// The pages of a vmalloc area: order 0 each, no page type.
    Vmalloc,
}

/// The runtime's own metadata of the pages under a heap object, from which the
/// report's `The buggy address belongs to the physical page:` section is made (a
/// hosted pfn is the address's page number).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageInfo {
    /// What the pages are.
    pub kind: PageKind,
    /// The first page of the slab or allocation.
    pub start: usize,
    /// Pages in it (a vmalloc area's without its guard page).
    pub pages: usize,
    /// Whether the pages form one compound page (a slab, a large kmalloc; Linux's
    /// `__GFP_COMP`) rather than separate order-0 pages.
    pub compound: bool,
    /// A slab's objects, objects in use, and free-list head (`counters`, `freelist`).
    pub objects: u32,
    /// See `objects`.
    pub inuse: u32,
    /// See `objects`.
    pub freelist: usize,
    /// The allocation's gfp flags (page allocator and large kmalloc), as Linux's.
    pub gfp: u32,
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
    /// The pages under it.
    pub page: PageInfo,
}

/// What a host's allocators know about an address.
pub trait Describe {
    /// The heap object `addr` falls in (its slot, including the redzone after it).
    fn object(&self, addr: usize) -> Option<ObjectInfo>;
    /// The current task's stack, `[low, high)`.
    fn stack_bounds(&self) -> Option<(usize, usize)>;
}

/// The registers of an x86-64 fault, as Linux's `__show_regs` prints them; a host's
/// fault handler fills them from the signal's machine context.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Registers {
    /// The faulting instruction (`RIP`).
    pub ip: usize,
    /// `RSP`.
    pub sp: usize,
    /// `EFLAGS`.
    pub flags: usize,
    /// The exception's error code (0 for a general protection fault on a
    /// non-canonical address).
    pub error_code: usize,
    /// The general registers in the order Linux prints them: [`REGISTER_NAMES`].
    pub gp: [usize; 15],
}

/// The names of [`Registers::gp`], in Linux's order (three to a line).
pub const REGISTER_NAMES: [&str; 15] = [
    "RAX", "RBX", "RCX", "RDX", "RSI", "RDI", "RBP", "R08", "R09", "R10", "R11", "R12", "R13",
    "R14", "R15",
];

/// A general protection fault that KASAN explains: inline code checked the shadow
/// of an address that has none. On x86-64 Linux that shadow address is
/// non-canonical, the check's own load faults, and the fault handler prints
/// `Oops: general protection fault` followed by `kasan_non_canonical_hook`'s
/// `KASAN: <type> in range [...]` line, then the registers and the call trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gpf {
    /// The address the fault line names: the shadow address the check loaded.
    pub shadow_addr: usize,
    /// The first byte of the granule that shadow address stands for.
    pub addr: usize,
    /// The access the check was for (size, whether a write), when the runtime was
    /// told (an inline check that called it); `None` when only the fault is known.
    pub access: Option<(usize, bool)>,
    /// The registers at the fault, when a fault handler saw them; `None` when the
    /// check called the runtime instead of faulting (the trace's first address is
    /// then the return address of that call).
    pub regs: Option<Registers>,
}

/// General protection faults printed so far in this process: Linux's `die_counter`
/// (`[#N]` in the fault line), which counts for the whole kernel.
static OOPS: AtomicU32 = AtomicU32::new(0);

/// Bytes of text one report may take before it is written in more than one piece
/// (whole lines each): enough for a trace, alloc, free and two aux stacks of 64
/// frames with inlined frames and long file names.
pub const REPORT_BUFFER: usize = 128 << 10;
/// Frames kept of each bug queued while its task was already reporting.
pub const QUEUED_FRAMES: usize = 64;
/// Bugs that may wait for the report in progress on their task.
pub const QUEUE_LEN: usize = 8;

/// The report gate and counters; one per runtime.
///
/// The report lock is `owner`: the id of the task holding it (0 when free), so
/// that a bug raised by the holder itself (a signal handler that interrupted its
/// report) is recognised at once, without a window between taking the lock and
/// naming the holder. Such a bug is queued, with its trace copied, and printed by
/// the holder right after the report in progress: never rendered re-entrantly, so
/// the report stack and the text buffer have one user at a time.
pub struct Reporter {
    owner: AtomicU32,
    reported: AtomicBool,
    count: AtomicUsize,
    /// The bug type of the newest report printed (`BUG: KASAN: <type>`), for test
    /// harnesses that assert it (KUnit's console probe, in our C API).
    last_bug_type: SpinLock<Option<&'static str>>,
    /// `kasan_multi_shot` turned on at run time (Linux's `kasan_save_enable_multi_shot`).
    multi_shot: AtomicBool,
    /// The text of the report being printed; taken only by the lock holder. One
    /// buffer for every reporter of the program ([`REPORT_TEXT`]).
    text: &'static SpinLock<[u8; REPORT_BUFFER]>,
    queue: Queue,
}

/// The report text buffer, shared by every [`Reporter`] (a program has one; tests
/// build several, which then take turns). A static of its own so that it is
/// zero-initialised (`.bss`): inside the reporter, whose other fields are not all
/// zero bytes, its 128 KiB would be `.data` in every statically linked program.
static REPORT_TEXT: SpinLock<[u8; REPORT_BUFFER]> = SpinLock::new([0; REPORT_BUFFER]);

impl fmt::Debug for Reporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reporter")
            .field("owner", &self.owner)
            .field("count", &self.count)
            .finish_non_exhaustive()
    }
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
    /// The mode's view of its metadata: granule, tags, first bad byte, bug type,
    /// region size, the dump's rows and (tag modes) the stack ring.
    pub mode: &'a dyn ReportMode,
    /// Generic mode's shadow, for what only it encodes: the compiler's stack frame
    /// descriptions and the start of the shadowed range a fault report names; `None` in
    /// tag modes.
    pub generic: Option<&'a Shadow>,
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

/// Who raised a bug and where its stack is, taken on the reporting task before the
/// report moves to the report stack (where the stack pointer says nothing about the
/// task's stack), and kept with a queued bug.
#[derive(Debug, Clone, Copy)]
struct Who {
    task: Task,
    cpu: u32,
    stack: Option<(usize, usize)>,
}

impl Who {
    fn now(ctx: &Context<'_>) -> Who {
        Who {
            task: ctx.platform.task(),
            cpu: ctx.platform.cpu(),
            stack: ctx.describe.stack_bounds(),
        }
    }
}

/// What a report is about.
#[derive(Debug, Clone, Copy)]
enum What {
    /// A bad access or free.
    Bug {
        kind: Kind,
        addr: usize,
        size: usize,
        is_write: bool,
    },
    /// A general protection fault that KASAN explains (see [`Gpf`]); `oops` is its
    /// number, Linux's `[#N]`.
    ShadowFault { fault: Gpf, oops: u32 },
}

/// One report to print: what, who, its number, and the call trace.
#[derive(Debug, Clone, Copy)]
struct Entry<'a> {
    what: What,
    who: Who,
    index: usize,
    trace: &'a [usize],
}

impl Entry<'_> {
    fn is_write(&self) -> bool {
        match self.what {
            What::Bug { kind, is_write, .. } => is_write || kind != Kind::Access,
            What::ShadowFault { .. } => false,
        }
    }
}

/// A queued bug, its trace copied.
#[derive(Debug, Clone, Copy)]
struct Pending {
    what: What,
    who: Who,
    index: usize,
    trace: [usize; QUEUED_FRAMES],
    depth: usize,
}

impl Pending {
    /// All zero bytes (the first variant of each enum), so that the reporter, whose
    /// queue holds these, is a zero-initialised static: `.bss`, not 137 KiB of
    /// `.data` in every statically linked program.
    const EMPTY: Pending = Pending {
        what: What::Bug {
            kind: Kind::Access,
            addr: 0,
            size: 0,
            is_write: false,
        },
        who: Who {
            task: Task::EMPTY,
            cpu: 0,
            stack: None,
        },
        index: 0,
        trace: [0; QUEUED_FRAMES],
        depth: 0,
    };
}

/// Bugs raised by the lock holder's task while it reports. Pushed only by that
/// task (from signal handlers, which run to completion before the code they
/// interrupted goes on), popped only by a lock holder; so `tail` is claimed with a
/// compare-exchange (a handler may interrupt another handler's push) and a slot is
/// never written while it is printed (`tail - head` stays below the length).
struct Queue {
    slots: [SpinLock<Pending>; QUEUE_LEN],
    /// Slots claimed so far.
    tail: AtomicUsize,
    /// Slots printed so far.
    head: AtomicUsize,
    /// Bugs that found the queue full, not yet said.
    dropped: AtomicUsize,
}

impl Queue {
    const fn new() -> Queue {
        Queue {
            slots: [const { SpinLock::new(Pending::EMPTY) }; QUEUE_LEN],
            tail: AtomicUsize::new(0),
            head: AtomicUsize::new(0),
            dropped: AtomicUsize::new(0),
        }
    }

    fn is_empty(&self) -> bool {
        // Acquire pairs with the Release updates in `push` and `Reporter::drain`.
        self.tail.load(Ordering::Acquire) == self.head.load(Ordering::Acquire)
            && self.dropped.load(Ordering::Acquire) == 0
    }

    /// Queues a bug; false if the queue is full (the bug is counted as dropped).
    fn push(&self, entry: &Entry<'_>) -> bool {
        let slot = loop {
            // Acquire pairs with the Release in `Reporter::drain`: a slot counted
            // as printed is no longer read.
            let tail = self.tail.load(Ordering::Acquire);
            if tail - self.head.load(Ordering::Acquire) >= QUEUE_LEN {
                // Release pairs with the Acquire in `is_empty` / `drain`.
                self.dropped.fetch_add(1, Ordering::Release);
                return false;
            }
            // Relaxed on failure: we only retry. Release on success pairs with the
            // Acquire loads of `tail` (only the pushing task reads the slot before
            // it is written, and that task is the one writing it).
            if self
                .tail
                .compare_exchange(tail, tail + 1, Ordering::Release, Ordering::Relaxed)
                .is_ok()
            {
                break tail % QUEUE_LEN;
            }
        };
        let Some(mut p) = self.slots[slot].try_lock() else {
            // Cannot happen (the slot is neither printed nor claimed twice); never
            // wait in a handler regardless.
            // Release: as above.
            self.dropped.fetch_add(1, Ordering::Release);
            return false;
        };
        let depth = entry.trace.len().min(QUEUED_FRAMES);
        p.what = entry.what;
        p.who = entry.who;
        p.index = entry.index;
        p.trace[..depth].copy_from_slice(&entry.trace[..depth]);
        p.depth = depth;
        true
    }
}

/// A task id as the lock word holds it: never 0 (the free lock).
fn owner_id(pid: u32) -> u32 {
    pid.wrapping_add(1).max(1)
}

/// The id `lock_all` holds the lock with (no task has it).
const FORK_OWNER: u32 = u32::MAX;

impl Reporter {
    /// A reporter that has reported nothing yet.
    pub const fn new() -> Reporter {
        Reporter {
            owner: AtomicU32::new(0),
            reported: AtomicBool::new(false),
            count: AtomicUsize::new(0),
            last_bug_type: SpinLock::new(None),
            multi_shot: AtomicBool::new(false),
            text: &REPORT_TEXT,
            queue: Queue::new(),
        }
    }

    fn acquire(&self, id: u32) {
        let mut spins = 1u32;
        // Acquire pairs with the Release store in `release`: the previous holder's
        // writes (text buffer, queue) are visible to us. Relaxed on failure: we retry.
        while self
            .owner
            .compare_exchange_weak(0, id, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            for _ in 0..spins {
                core::hint::spin_loop();
            }
            spins = (spins * 2).min(1024);
        }
    }

    fn release(&self) {
        // Release pairs with the Acquire compare-exchange in `acquire`.
        self.owner.store(0, Ordering::Release);
    }

    /// Whether the current task (`id`) holds the report lock: it is reporting.
    fn held_by(&self, id: u32) -> bool {
        // Relaxed: only our own task stores our id, so the value we may see equal
        // to it is our own store.
        self.owner.load(Ordering::Relaxed) == id
    }

    /// Waits for any report in progress and blocks new ones (before `fork`), so a
    /// child never inherits a half-written report or its locks.
    pub fn lock_all(&self) {
        self.acquire(FORK_OWNER);
    }

    /// Releases the lock taken by [`Reporter::lock_all`].
    ///
    /// # Safety
    ///
    /// The caller must hold it through `lock_all`.
    pub unsafe fn unlock_all(&self) {
        self.release();
    }

    /// Whether some task is printing a report (for a process about to exit, which
    /// waits for it rather than cut it off).
    pub fn in_progress(&self) -> bool {
        // Relaxed: a hint polled in a loop; nothing is read on its strength.
        self.owner.load(Ordering::Relaxed) != 0
    }

    /// Bugs reported so far (printed, or queued to be printed next).
    pub fn count(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }

    /// The bug type of the newest report printed (`slab-out-of-bounds`, ...), or
    /// `None` before the first. A report being printed right now may not be in yet.
    pub fn last_bug_type(&self) -> Option<&'static str> {
        *self.last_bug_type.lock()
    }

    /// Turns multi-shot reporting on whatever the configuration says, or back to the
    /// configuration; returns the previous run-time setting (Linux's
    /// `kasan_save_enable_multi_shot` / `kasan_restore_multi_shot`).
    pub fn set_multi_shot(&self, on: bool) -> bool {
        // Relaxed: a flag read by later reports; no data is published with it.
        self.multi_shot.swap(on, Ordering::Relaxed)
    }

    fn multi_shot(&self, ctx: &Context<'_>) -> bool {
        // Relaxed: see `set_multi_shot`.
        ctx.config.multi_shot || self.multi_shot.load(Ordering::Relaxed)
    }

    fn note_bug_type(&self, bug_type: Option<&'static str>) {
        if bug_type.is_some() {
            *self.last_bug_type.lock() = bug_type;
        }
    }

    /// Reports `bug` unless the gate says no; returns whether it was (or, raised by
    /// a task that is already reporting, will be right after) printed (Linux's
    /// `kasan_report`). Applies `kasan.fault` afterwards.
    pub fn report(&self, ctx: &Context<'_>, bug: &Bug<'_>) -> bool {
        let who = Who::now(ctx);
        let id = owner_id(who.task.pid);
        let nested = self.held_by(id);
        if !self.multi_shot(ctx) && self.reported.swap(true, Ordering::Relaxed) {
            return false;
        }
        let what = What::Bug {
            kind: bug.kind,
            addr: bug.addr,
            size: bug.size,
            is_write: bug.is_write,
        };
        if nested {
            // A bug raised while this task reports (a signal handler that
            // interrupted the report): printed by the report in progress, after it.
            let entry = Entry {
                what,
                who,
                index: self.count.fetch_add(1, Ordering::Relaxed),
                trace: bug.trace,
            };
            if !self.queue.push(&entry) {
                self.count.fetch_sub(1, Ordering::Relaxed);
                return false;
            }
            return true;
        }
        self.acquire(id);
        let entry = Entry {
            what,
            who,
            index: self.count.fetch_add(1, Ordering::Relaxed),
            trace: bug.trace,
        };
        let write = self.print_locked(ctx, Some(&entry));
        let write = self.finish(ctx, id) || write;
        match ctx.config.fault {
            Fault::Panic => ctx.platform.halt("kasan.fault=panic set ...\n"),
            Fault::PanicOnWrite if write => {
                ctx.platform.halt("kasan.fault=panic_on_write set ...\n")
            }
            _ => {}
        }
        if ctx.config.panic_on_warn && !self.multi_shot(ctx) {
            ctx.platform.halt("panic_on_warn set ...\n");
        }
        true
    }

    /// Reports a general protection fault that KASAN explains: inline code checked
    /// an address without shadow (Linux's `kasan_non_canonical_hook`, printed with
    /// the fault). Always printed, whatever the once/multi-shot gate says, as Linux's
    /// oops is: the task dies next.
    pub fn report_shadow_fault(&self, ctx: &Context<'_>, fault: &Gpf, trace: &[usize]) {
        let who = Who::now(ctx);
        let id = owner_id(who.task.pid);
        let what = What::ShadowFault {
            fault: *fault,
            // Relaxed: a counter, like Linux's `die_counter`.
            oops: OOPS.fetch_add(1, Ordering::Relaxed) + 1,
        };
        if self.held_by(id) {
            // The task faulted while it reports (in a handler that interrupted its
            // report) and dies when the handler returns, so this cannot wait for the
            // report in progress: print it now, from a small buffer and without the
            // symbolizer (which the interrupted report may be using).
            let entry = Entry {
                what,
                who,
                index: self.count.fetch_add(1, Ordering::Relaxed),
                trace,
            };
            let mut buf = [0u8; 1024];
            let mut out = Out::new(ctx.platform, &mut buf);
            render_shadow_fault(&mut out, ctx, &entry, false);
            out.flush();
            return;
        }
        self.acquire(id);
        let entry = Entry {
            what,
            who,
            index: self.count.fetch_add(1, Ordering::Relaxed),
            trace,
        };
        self.print_locked(ctx, Some(&entry));
        self.finish(ctx, id);
    }

    /// With the lock held: prints `first` and then every queued bug, on the
    /// platform's report stack. Returns whether one of them was a write.
    fn print_locked(&self, ctx: &Context<'_>, first: Option<&Entry<'_>>) -> bool {
        let mut write = false;
        let mut body = || {
            // Another reporter may be rendering (tests); only this context holding
            // it already (a nested fault inside a report) gives up.
            let Some(mut text) = self.text.lock_unless_held() else {
                return;
            };
            let mut out = Out::new(ctx.platform, &mut text[..]);
            if let Some(entry) = first {
                write |= entry.is_write();
                self.note_bug_type(render(&mut out, ctx, entry));
                out.flush();
            }
            write |= self.drain(ctx, &mut out);
        };
        ctx.platform.on_report_stack(&mut body);
        write
    }

    /// Prints the queued bugs (lock held); returns whether one was a write.
    fn drain(&self, ctx: &Context<'_>, out: &mut Out<'_>) -> bool {
        let mut write = false;
        loop {
            // Acquire pairs with the Release compare-exchange in `Queue::push`.
            let head = self.queue.head.load(Ordering::Acquire);
            if head == self.queue.tail.load(Ordering::Acquire) {
                break;
            }
            if let Some(p) = self.queue.slots[head % QUEUE_LEN].try_lock() {
                let entry = Entry {
                    what: p.what,
                    who: p.who,
                    index: p.index,
                    trace: &p.trace[..p.depth],
                };
                write |= entry.is_write();
                self.note_bug_type(render(out, ctx, &entry));
                out.flush();
            }
            // Release pairs with the Acquire loads in `Queue::push`: the slot is free.
            self.queue.head.store(head + 1, Ordering::Release);
        }
        // Acquire pairs with the Release increments in `Queue::push`.
        let dropped = self.queue.dropped.swap(0, Ordering::Acquire);
        if dropped > 0 {
            let _ = match ctx.config.format {
                Format::Json => {
                    json_dropped(out, dropped);
                    Ok(())
                }
                Format::Text => writeln!(
                    out,
                    "kasan: {dropped} nested report{} dropped: raised while a report was printed, with {QUEUE_LEN} already waiting",
                    if dropped == 1 { "" } else { "s" }
                ),
            };
            out.flush();
        }
        write
    }

    /// Releases the lock after printing; a bug queued between the last look at the
    /// queue and the release is printed by taking the lock again. Returns whether
    /// such a bug was a write.
    fn finish(&self, ctx: &Context<'_>, id: u32) -> bool {
        let mut write = false;
        loop {
            self.release();
            if self.queue.is_empty() {
                return write;
            }
            self.acquire(id);
            write |= self.print_locked(ctx, None);
        }
    }
}

/// Renders one report into `out`; returns its bug type (none for a fault).
fn render(out: &mut Out<'_>, ctx: &Context<'_>, entry: &Entry<'_>) -> Option<&'static str> {
    match entry.what {
        What::Bug {
            kind,
            addr,
            size,
            is_write,
        } => {
            let bug = Bug {
                kind,
                addr,
                size,
                is_write,
                trace: entry.trace,
            };
            Some(match ctx.config.format {
                Format::Text => render_text(out, ctx, &bug, &entry.who, entry.index > 0),
                Format::Json => render_json(out, ctx, &bug, &entry.who, entry.index > 0),
            })
        }
        What::ShadowFault { fault, .. } => {
            render_shadow_fault(out, ctx, entry, true);
            // The type `kasan_non_canonical_hook` names, for harnesses that check it.
            Some(gpf_bug_type(ctx, fault.addr).1)
        }
    }
}

/// The end of x86-64 user space (Linux's `TASK_SIZE_MAX`, rounded to the page): a
/// kernel's shadow covers only the upper half, so below its start lie user addresses
/// and, above them, non-canonical ones (wild).
const USER_END: usize = 0x0000_7fff_ffff_f000;

/// Where user addresses end for a shadow: below its first covered address and
/// below [`USER_END`].
fn user_end(shadow: &Shadow) -> usize {
    shadow.range().0.min(USER_END)
}

/// What `kasan_non_canonical_hook` calls a fault on the shadow of `addr`: its
/// qualifier (`probably`, `maybe`, none) and the bug type.
fn gpf_bug_type(ctx: &Context<'_>, addr: usize) -> (Option<&'static str>, &'static str) {
    if addr < generic::PAGE_SIZE {
        (None, "null-ptr-deref")
    } else if addr < ctx.generic.map_or(generic::PAGE_SIZE, user_end) {
        (Some("probably"), "user-memory-access")
    } else {
        (Some("maybe"), "wild-memory-access")
    }
}

/// Linux's `show_opcodes`: the code bytes around the faulting instruction, 42
/// before it and 21 after.
const CODE_PROLOGUE: usize = 42;
const CODE_EPILOGUE: usize = 21;
const CODE_BYTES: usize = CODE_PROLOGUE + 1 + CODE_EPILOGUE;

/// The code bytes `[ip - 42, ip + 22)`, read without faulting; `None` if any of
/// them cannot be read.
fn read_code(ctx: &Context<'_>, ip: usize) -> Option<[u8; CODE_BYTES]> {
    let start = ip.checked_sub(CODE_PROLOGUE)?;
    let mut bytes = [0u8; CODE_BYTES];
    let mut i = 0;
    while i < CODE_BYTES {
        let at = start.checked_add(i)?;
        let word_at = at & !(core::mem::size_of::<usize>() - 1);
        let word = ctx.platform.read_word(word_at)?.to_le_bytes();
        let skip = at - word_at;
        let n = (word.len() - skip).min(CODE_BYTES - i);
        bytes[i..i + n].copy_from_slice(&word[skip..skip + n]);
        i += n;
    }
    Some(bytes)
}

/// `RIP: 0010:func+0x../0x.. file:line`, preceded by one `RIP: 0010:name file:line
/// [inline]` line per function inlined there (as `decode_stacktrace.sh` expands
/// it). `0010` is the kernel's code segment, which Linux prints for a fault in
/// kernel code: the runtime plays the kernel, and syzkaller reads `0033` as a
/// user-space frame.
fn write_rip(out: &mut Out<'_>, ctx: &Context<'_>, ip: usize, is_return: bool, symbols: bool) {
    if !symbols {
        let _ = writeln!(out, "RIP: 0010:{ip:#x}");
        return;
    }
    ctx.platform.inlined(ip, is_return, &mut |s: &Symbol<'_>| {
        let _ = write!(out, "RIP: 0010:{}", s.name);
        if let (Some(file), Some(line)) = (s.file, s.line) {
            let _ = write!(out, " {file}:{line}");
        }
        let _ = out.write_str(" [inline]\n");
    });
    let mut found = false;
    ctx.platform
        .symbolize(ip, is_return, &mut |s: &Symbol<'_>| {
            found = true;
            let _ = write!(out, "RIP: 0010:{}+{:#x}/{:#x}", s.name, s.offset, s.size);
            if let (Some(file), Some(line)) = (s.file, s.line) {
                let _ = write!(out, " {file}:{line}");
            }
        });
    if !found {
        let _ = write!(out, "RIP: 0010:{ip:#x}");
    }
    let _ = out.write_str("\n");
}

/// The `Code:` line and the registers (Linux's `show_ip` after the RIP line, and
/// the short form of `__show_regs`: the segment, control and debug registers a
/// process cannot see are left out). `0018` is the kernel's stack segment.
fn write_regs(out: &mut Out<'_>, ctx: &Context<'_>, r: &Registers) {
    match read_code(ctx, r.ip) {
        Some(code) => {
            let _ = out.write_str("Code:");
            for (i, b) in code.iter().enumerate() {
                let _ = if i == CODE_PROLOGUE {
                    write!(out, " <{b:02x}>")
                } else {
                    write!(out, " {b:02x}")
                };
            }
            let _ = out.write_str("\n");
        }
        None => {
            let _ = writeln!(
                out,
                "Code: Unable to access opcode bytes at {:#x}.",
                r.ip.wrapping_sub(CODE_PROLOGUE)
            );
        }
    }
    let _ = writeln!(out, "RSP: 0018:{:016x} EFLAGS: {:08x}", r.sp, r.flags);
    for (row, names) in REGISTER_NAMES.chunks(3).enumerate() {
        for (i, name) in names.iter().enumerate() {
            let _ = write!(
                out,
                "{}{name}: {:016x}",
                if i > 0 { " " } else { "" },
                r.gp[row * 3 + i]
            );
        }
        let _ = out.write_str("\n");
    }
}

/// The general-protection-fault report (text or JSON); `symbols` off prints bare
/// addresses (a report nested in another, which may be using the symbolizer).
///
/// The layout is x86-64 Linux 6.x's (`Oops: general protection fault, probably
/// for non-canonical address ...`, the `KASAN: ... in range` line, CPU, RIP,
/// code and registers, the call trace of the callers, `Modules linked in:`, the
/// end marker, and RIP, code and registers again). Without registers (an inline
/// check that called the runtime, on the NULL page) the code and register lines
/// are left out, and the RIP is the return address of that call.
fn render_shadow_fault(out: &mut Out<'_>, ctx: &Context<'_>, entry: &Entry<'_>, symbols: bool) {
    let What::ShadowFault { fault, oops } = entry.what else {
        return;
    };
    if ctx.config.format == Format::Json {
        json_gpf(out, ctx, entry, &fault, oops, symbols);
        return;
    }
    let (qualifier, bug_type) = gpf_bug_type(ctx, fault.addr);
    let trace = entry.trace;
    let ip = trace.first().copied().unwrap_or(0);
    let ip_is_return = fault.regs.is_none();
    let _ = writeln!(
        out,
        "Oops: general protection fault, probably for non-canonical address {:#x}: {:04x} [#{oops}] SMP KASAN",
        fault.shadow_addr,
        fault.regs.map_or(0, |r| r.error_code & 0xffff)
    );
    let _ = out.write_str("KASAN: ");
    if let Some(q) = qualifier {
        let _ = write!(out, "{q} ");
    }
    let _ = writeln!(
        out,
        "{bug_type} in range [{:#018x}-{:#018x}]",
        fault.addr,
        fault.addr.wrapping_add(GRANULE_SIZE - 1)
    );
    write_cpu_line(out, ctx, &entry.who, entry.index > 0);
    let summary = |out: &mut Out<'_>| {
        write_rip(out, ctx, ip, ip_is_return, symbols);
        if let Some(r) = &fault.regs {
            write_regs(out, ctx, r);
        }
    };
    summary(out);
    let _ = out.write_str("Call Trace:\n <TASK>\n");
    for &pc in trace.iter().skip(1) {
        if symbols {
            write_frame(out, ctx, pc, true);
        } else {
            let _ = writeln!(out, " {pc:#x}");
        }
    }
    let _ = out.write_str(" </TASK>\nModules linked in:\n---[ end trace 0000000000000000 ]---\n");
    summary(out);
}

/// A buffer in front of the console: a report is written with one call when it
/// fits; a bigger one in as few calls as possible, each of whole lines.
struct Out<'a> {
    platform: &'a dyn Platform,
    buf: &'a mut [u8],
    len: usize,
}

impl<'a> Out<'a> {
    fn new(platform: &'a dyn Platform, buf: &'a mut [u8]) -> Self {
        Out {
            platform,
            buf,
            len: 0,
        }
    }

    fn flush(&mut self) {
        if self.len > 0 {
            self.platform.write(&self.buf[..self.len]);
            self.len = 0;
        }
    }

    /// Makes room: writes the whole lines buffered and keeps the partial one (all
    /// of it if a single line fills the buffer).
    fn spill(&mut self) {
        match self.buf[..self.len].iter().rposition(|&b| b == b'\n') {
            Some(end) if end + 1 < self.len => {
                self.platform.write(&self.buf[..end + 1]);
                self.buf.copy_within(end + 1..self.len, 0);
                self.len -= end + 1;
            }
            _ => self.flush(),
        }
    }
}

impl Write for Out<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut bytes = s.as_bytes();
        while !bytes.is_empty() {
            if self.len == self.buf.len() {
                self.spill();
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
    /// The address without its tag (where the object, stack or variable is looked up).
    addr: usize,
    first_bad: usize,
    has_metadata: bool,
    object: Option<ObjectInfo>,
    /// `(pointer tag, memory tag)` in tag modes.
    tags: Option<(u8, u8)>,
}

fn analyze(ctx: &Context<'_>, bug: &Bug<'_>) -> Analysis {
    let mode = ctx.mode;
    let addr = mode.untag(bug.addr);
    let has_metadata = mode.has_metadata(addr);
    let first_bad = match bug.kind {
        Kind::Access => mode.first_bad_addr(bug.addr, bug.size),
        Kind::InvalidFree | Kind::DoubleFree => addr,
    };
    let mut object = if has_metadata {
        ctx.describe.object(addr)
    } else {
        None
    };
    // Tag modes keep no tracks with the object: Linux's `kasan_complete_mode_report_info`
    // scans the stack ring for the slab object seen through this tagged pointer (for
    // frees too, whose type is already decided). Page-backed memory has no ring entries.
    let mut ring: Option<RingFind> = None;
    if let Some(o) = object
        .as_mut()
        .filter(|o| matches!(o.backing, Backing::Slab))
    {
        ring = mode.ring_find(bug.addr, o.object, o.object_size);
        if let Some(r) = &ring {
            o.alloc = r.alloc;
            o.free = r.free;
        }
    }
    let bug_type = match bug.kind {
        Kind::InvalidFree => "invalid-free",
        Kind::DoubleFree => "double-free",
        Kind::Access => mode.bug_type(
            bug.addr,
            bug.size,
            first_bad,
            object.as_ref(),
            ring.as_ref(),
        ),
    };
    let tags = if has_metadata {
        mode.tags(bug.addr, first_bad)
    } else {
        None
    };
    Analysis {
        bug_type,
        addr,
        first_bad,
        has_metadata,
        object,
        tags,
    }
}

/// Writes ` func+0xoff/0xsize[ file:line]` for one frame, or ` 0x<pc>` if unknown,
/// preceded by one ` name file:line [inline]` line per function inlined there, as
/// Linux's `decode_stacktrace.sh` shows them.
fn write_frame(out: &mut Out<'_>, ctx: &Context<'_>, pc: usize, is_return: bool) {
    write_trace_line(out, ctx.platform, pc, is_return);
}

/// One call-trace line as reports print it (see `write_frame`), for any writer: the
/// platform's own messages with a call trace (a fault that is no KASAN bug) use it too.
pub fn write_trace_line<W: Write + ?Sized>(
    out: &mut W,
    platform: &dyn Platform,
    pc: usize,
    is_return: bool,
) {
    platform.inlined(pc, is_return, &mut |s: &Symbol<'_>| {
        let _ = write!(out, " {}", s.name);
        if let (Some(file), Some(line)) = (s.file, s.line) {
            let _ = write!(out, " {file}:{line}");
        }
        let _ = out.write_str(" [inline]\n");
    });
    let mut found = false;
    platform.symbolize(pc, is_return, &mut |s: &Symbol<'_>| {
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

/// A saved stack (a track's, an aux stack). Its first frame is the allocator API
/// function the program called (see the runtime's `track`), printed alone: the
/// runtime's internals inlined into it stay out, as Linux's tracks show
/// `kmalloc`/`kfree` and not how they are built.
fn write_stack(out: &mut Out<'_>, ctx: &Context<'_>, handle: Handle) {
    let frames = ctx.depot.fetch(handle);
    if frames.is_empty() {
        // Linux's `print_track`: no leading space.
        let _ = out.write_str("(stack is not available)\n");
    }
    for (i, &pc) in frames.iter().enumerate() {
        if i == 0 {
            let _ = out.write_str(" ");
            write_symbol_line(out, ctx, pc);
        } else {
            write_frame(out, ctx, pc, true);
        }
    }
}

/// An `Allocated by task`/`Freed by task` block. As Linux's
/// `describe_object_stacks`, only a track with a saved stack is printed: with
/// `kasan.stacktrace=off` (no stacks saved) the blocks are left out.
fn write_track(out: &mut Out<'_>, ctx: &Context<'_>, what: &str, track: &Track) {
    if !track.stack.is_some() {
        return;
    }
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
/// The caller of vmalloc that Linux's `vmalloc_dump_obj` names: the frame after the
/// entry frame of the area's allocation track.
fn vmalloc_caller(ctx: &Context<'_>, o: &ObjectInfo) -> Option<usize> {
    o.alloc
        .and_then(|t| ctx.depot.fetch(t.stack).get(1).copied())
}

fn region_size(ctx: &Context<'_>, o: &ObjectInfo) -> usize {
    ctx.mode.region_size(o.object, o.object_size)
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
    let shadow = ctx.generic?;
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

/// A compiler frame description, `"<count> <offset> <size> <name length>
/// <name[:line]> ..."`, read lazily: `count` as the compiler wrote it, then the
/// objects (offset, size, name without `:line`) until the text ends or is malformed.
/// The name is taken by its length, so an unnamed object (length 0, as clang gives a
/// constant `alloca`) is listed too.
struct FrameObjects<'d> {
    rest: &'d str,
    left: usize,
}

impl<'d> FrameObjects<'d> {
    /// The object count and the objects, or `None` if even the count is unreadable.
    fn parse(descr: &'d str) -> Option<(usize, Self)> {
        let mut rest = descr;
        let count = Self::number(&mut rest)?;
        Some((count, FrameObjects { rest, left: count }))
    }

    fn number(rest: &mut &str) -> Option<usize> {
        let s = rest.trim_start_matches(' ');
        let end = s.find(' ').unwrap_or(s.len());
        let n = s[..end].parse().ok()?;
        *rest = &s[end..];
        Some(n)
    }
}

impl<'d> Iterator for FrameObjects<'d> {
    type Item = (usize, usize, &'d str);

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        let off = Self::number(&mut self.rest)?;
        let size = Self::number(&mut self.rest)?;
        let len = Self::number(&mut self.rest)?;
        // One space, then exactly `len` bytes of name (`name` or `name:line`).
        let body = self.rest.strip_prefix(' ').unwrap_or(self.rest);
        let name = body.get(..len)?;
        self.rest = &body[len..];
        self.left -= 1;
        Some((off, size, name.split(':').next().unwrap_or(name)))
    }
}

/// Prints "This frame has N objects" and the objects of a compiler frame
/// description (see [`FrameObjects`]).
fn write_frame_objects(out: &mut Out<'_>, descr: &str) {
    let Some((count, objects)) = FrameObjects::parse(descr) else {
        return;
    };
    let _ = writeln!(
        out,
        "This frame has {count} {}:",
        if count == 1 { "object" } else { "objects" }
    );
    for (off, size, name) in objects {
        let _ = writeln!(out, " [{off}, {}) '{name}'", off + size);
    }
    let _ = out.write_str("\n");
}

/// `%pS` of a return address with its source line, as syzbot's reports show the
/// vmalloc caller, and a newline.
fn write_symbol_line(out: &mut Out<'_>, ctx: &Context<'_>, pc: usize) {
    let mut found = false;
    ctx.platform.symbolize(pc, true, &mut |s: &Symbol<'_>| {
        found = true;
        let _ = write!(out, "{}+{:#x}/{:#x}", s.name, s.offset, s.size);
        if let (Some(file), Some(line)) = (s.file, s.line) {
            let _ = write!(out, " {file}:{line}");
        }
    });
    if !found {
        let _ = write!(out, "{pc:#x}");
    }
    let _ = out.write_str("\n");
}

/// The slab object's tracks, aux stacks and place (Linux's `describe_object`).
fn write_slab_object(
    out: &mut Out<'_>,
    ctx: &Context<'_>,
    bug: &Bug<'_>,
    bug_type: &str,
    o: &ObjectInfo,
) {
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
    // Linux's `describe_object_addr` (generic mode): the state word only for these
    // two bug types; a double-free, an invalid-free, an `out-of-bounds` race or an
    // `unknown-crash` print the bare region. Tag modes never print it (the ring, not
    // the metadata, decided the type).
    let state = match bug_type {
        _ if !ctx.mode.region_state_word() => "",
        "slab-out-of-bounds" => "allocated ",
        "slab-use-after-free" => "freed ",
        _ => "",
    };
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
    let _ = writeln!(out, "The buggy address is located {dist} bytes {rel} of");
    let _ = writeln!(
        out,
        " {state}{size}-byte region [{}, {})",
        Px(o.object),
        Px(o.object + size)
    );
    let _ = out.write_str("\n");
}

/// Linux x86-64's `page->flags` layout (syzbot's configuration): the
/// `lastcpupid` field at bit 44 (11 bits, all ones: no last CPU), the zone at bit
/// 55, the node at bit 58. Hosted memory is node 0, `ZONE_NORMAL` (2).
const PAGE_FLAGS_FIELDS: u64 = (2 << 55) | (0x7ff << 44);
/// `PG_head` (Linux 6.12+ numbering, where slabs are a page type, not a flag).
const PG_HEAD: u64 = 1 << 6;
/// Linux x86-64's `vmemmap` base: where the `struct page` of pfn 0 would be.
const VMEMMAP_BASE: u64 = 0xffff_ea00_0000_0000;

/// `%pGg`: the gfp flags by name, Linux's composite names first, then each
/// remaining bit in bit order (`include/trace/events/mmflags.h`).
fn write_gfp(out: &mut Out<'_>, gfp: u32) {
    const COMPOSITE: [(u32, &str); 3] = [
        (0xcc0, "GFP_KERNEL"),
        (0x820, "GFP_ATOMIC"),
        (0x800, "GFP_NOWAIT"),
    ];
    const BITS: [&str; 24] = [
        "__GFP_DMA",
        "__GFP_HIGHMEM",
        "__GFP_DMA32",
        "__GFP_MOVABLE",
        "__GFP_RECLAIMABLE",
        "__GFP_HIGH",
        "__GFP_IO",
        "__GFP_FS",
        "__GFP_ZERO",
        "__GFP_UNUSED",
        "__GFP_DIRECT_RECLAIM",
        "__GFP_KSWAPD_RECLAIM",
        "__GFP_WRITE",
        "__GFP_NOWARN",
        "__GFP_RETRY_MAYFAIL",
        "__GFP_NOFAIL",
        "__GFP_NORETRY",
        "__GFP_MEMALLOC",
        "__GFP_COMP",
        "__GFP_NOMEMALLOC",
        "__GFP_HARDWALL",
        "__GFP_THISNODE",
        "__GFP_ACCOUNT",
        "__GFP_ZEROTAGS",
    ];
    let mut rest = gfp;
    let mut sep = "";
    if let Some(&(mask, name)) = COMPOSITE.iter().find(|(m, _)| gfp & m == *m) {
        let _ = out.write_str(name);
        rest &= !mask;
        sep = "|";
    }
    for (bit, name) in BITS.iter().enumerate() {
        if rest & (1 << bit) != 0 {
            let _ = write!(out, "{sep}{name}");
            sep = "|";
            rest &= !(1 << bit);
        }
    }
    if rest != 0 {
        let _ = write!(out, "{sep}{rest:#x}");
    }
}

/// The 64 bytes of a `struct page` as Linux's `raw:`/`head:` lines print them.
fn write_raw(out: &mut Out<'_>, prefix: &str, words: &[u64; 8]) {
    for half in words.chunks(4) {
        let _ = out.write_str(prefix);
        for (i, w) in half.iter().enumerate() {
            let _ = write!(out, "{}{w:016x}", if i == 0 { "" } else { " " });
        }
        let _ = out.write_str("\n");
    }
}

/// What the physical-page section says about the page holding `addr`, computed once
/// for the text and the JSON form.
struct PageFacts {
    /// The head page's number (`virt_to_head_page`).
    pfn: usize,
    /// The compound order (0 for a single page).
    order: u32,
    /// Slabs are frozen (refcount 0, Linux 6.15+); other pages hold one reference
    /// while allocated.
    refcount: u32,
    /// `page->flags`.
    flags: u64,
    /// `page_type` and its name, for slab and large-kmalloc pages.
    page_type: Option<(u32, &'static str)>,
}

impl PageFacts {
    fn of(platform: &dyn Platform, addr: usize, o: &ObjectInfo) -> PageFacts {
        let p = &o.page;
        // A freed large kmalloc is no compound page any more (freeing splits it: its
        // pages are order 0 again); a slab is one while it exists.
        let compound = p.compound && !(o.freed && p.kind != PageKind::Slab);
        let order = if compound {
            p.pages.max(1).next_power_of_two().trailing_zeros()
        } else {
            0
        };
        // KASAN dumps the head page (`virt_to_head_page`): a compound page's first, or
        // the page itself.
        let pfn = platform.page_frame(if compound || p.kind == PageKind::Slab {
            p.start
        } else {
            addr
        });
        let page_type = match p.kind {
            PageKind::Slab => Some((0xf5u32, "slab")),
            PageKind::LargeKmalloc if !o.freed => Some((0xf8, "large_kmalloc")),
            _ => None,
        };
        let refcount = match p.kind {
            PageKind::Slab => 0,
            _ => u32::from(!o.freed),
        };
        let flags = PAGE_FLAGS_FIELDS | if order > 0 { PG_HEAD } else { 0 };
        PageFacts {
            pfn,
            order,
            refcount,
            flags,
            page_type,
        }
    }

    /// `0x...(head|node=0|zone=2|lastcpupid=0x7ff)`, as the `flags:` line prints it.
    fn write_flags(&self, out: &mut Out<'_>) {
        let _ = write!(out, "{:#x}(", self.flags);
        if self.order > 0 {
            let _ = out.write_str("head|");
        }
        let _ = out.write_str("node=0|zone=2|lastcpupid=0x7ff)");
    }
}

/// page_owner's migrate type for an allocation's gfp mask.
fn migratetype(gfp: u32) -> &'static str {
    if gfp & 0x8 != 0 {
        "Movable"
    } else if gfp & 0x10 != 0 {
        "Reclaimable"
    } else {
        "Unmovable"
    }
}

/// `The buggy address belongs to the physical page:` and Linux's `dump_page` of
/// the page (6.15+ `__dump_folio`), made from the runtime's own page metadata; for
/// page memory (large kmalloc, page allocator) then the page_owner lines, as
/// syzbot's kernels (`page_owner=on`) print them, from the object's tracks. The
/// runtime does not record who made a slab or a vmalloc area's pages, so their
/// page_owner lines are left out (as on a kernel without page_owner).
///
/// The `raw:` words follow Linux's x86-64 `struct page`: flags, then (slab) the
/// free list and `counters`, the page type (or mapcount) with the refcount, and 0
/// for what the runtime has no counterpart of (lists, mapping, memcg).
fn write_physical_page(
    out: &mut Out<'_>,
    ctx: &Context<'_>,
    addr: usize,
    o: &ObjectInfo,
    who: &Who,
) {
    let p = &o.page;
    let f = PageFacts::of(ctx.platform, addr, o);
    let (pfn, order, refcount, flags) = (f.pfn, f.order, f.refcount, f.flags);
    let large = order > 0;
    let page_type = f.page_type.map(|(t, _)| t);
    let _ = out.write_str("The buggy address belongs to the physical page:\n");
    let _ = writeln!(
        out,
        "page: refcount:{refcount} mapcount:0 mapping:0000000000000000 index:0x0 pfn:{pfn:#x}"
    );
    if large {
        let _ = writeln!(
            out,
            "head: order:{order} mapcount:0 entire_mapcount:0 nr_pages_mapped:0 pincount:0"
        );
    }
    let _ = out.write_str("flags: ");
    f.write_flags(out);
    let _ = out.write_str("\n");
    if let Some((t, name)) = f.page_type {
        let _ = writeln!(out, "page_type: {t:x}({name})");
    }
    // The page type or mapcount word: a type in the top byte, else mapcount - 1.
    let type_word = page_type.map_or(0xffff_ffff, |t| t << 24);
    let mut raw = [0u64; 8];
    raw[0] = flags;
    if p.kind == PageKind::Slab {
        raw[4] = p.freelist as u64;
        raw[5] = (u64::from(p.objects & 0x7fff) << 16) | u64::from(p.inuse & 0xffff);
    }
    raw[6] = (u64::from(refcount) << 32) | u64::from(type_word);
    write_raw(out, "raw: ", &raw);
    if large {
        // The folio: its head page, then the first tail page (order in the flags'
        // low byte, the compound head pointer with bit 0 set, mapcounts of -1, the
        // page count).
        write_raw(out, "head: ", &raw);
        let tail = [
            PAGE_FLAGS_FIELDS | u64::from(order),
            (VMEMMAP_BASE + (pfn as u64) * 64) | 1,
            0xffff_ffff,
            0xffff_ffff,
            u64::MAX,
            0,
            0xffff_ffff,
            1u64 << order,
        ];
        write_raw(out, "head: ", &tail);
    }
    let _ = out.write_str("page dumped because: kasan: bad access detected\n");
    if matches!(p.kind, PageKind::LargeKmalloc | PageKind::Pages) {
        write_page_owner(out, ctx, o, who);
    }
    let _ = out.write_str("\n");
}

/// Linux's `__dump_page_owner` from the object's tracks.
fn write_page_owner(out: &mut Out<'_>, ctx: &Context<'_>, o: &ObjectInfo, who: &Who) {
    let _ = writeln!(
        out,
        "page_owner tracks the page as {}",
        if o.freed { "freed" } else { "allocated" }
    );
    let alloc = o.alloc.unwrap_or_default();
    // The allocation's order (a freed block's pages print as order 0 above).
    let order = o.page.pages.max(1).next_power_of_two().trailing_zeros();
    let tgid = ctx.platform.tgid();
    let _ = write!(
        out,
        "page last allocated via order {order}, migratetype {}, gfp_mask {:#x}(",
        migratetype(o.page.gfp),
        o.page.gfp
    );
    write_gfp(out, o.page.gfp);
    // page_owner keeps the allocating task's comm; the runtime knows the current
    // task's, which is it when the pid is the same.
    let comm = if alloc.pid == who.task.pid {
        who.task.comm()
    } else {
        "?"
    };
    let _ = writeln!(
        out,
        "), pid {}, tgid {tgid} ({comm}), ts {}, free_ts {}",
        alloc.pid,
        alloc.time_ns,
        o.free.map_or(0, |t| t.time_ns)
    );
    if alloc.stack.is_some() {
        write_stack(out, ctx, alloc.stack);
    } else {
        let _ = out.write_str("page_owner allocation stack trace missing\n");
    }
    match o.free {
        Some(t) if t.stack.is_some() => {
            let _ = writeln!(out, "page last free pid {} tgid {tgid} stack trace:", t.pid);
            write_stack(out, ctx, t.stack);
        }
        _ => {
            let _ = out.write_str("page_owner free stack trace missing\n");
        }
    }
}

fn write_description(out: &mut Out<'_>, ctx: &Context<'_>, bug: &Bug<'_>, who: &Who, a: &Analysis) {
    if let Some(o) = &a.object {
        match o.backing {
            Backing::Slab => {
                write_slab_object(out, ctx, bug, a.bug_type, o);
                write_physical_page(out, ctx, bug.addr, o, who);
            }
            // Linux describes page memory (a large kmalloc, the page allocator) by
            // its page alone: no object, no region, the owner from page_owner.
            Backing::Pages(_) => write_physical_page(out, ctx, bug.addr, o, who),
            Backing::Vmalloc { .. } if o.freed => {
                // A freed area (waiting for the lazy purge) has no vm_struct any
                // more and its pages are unmapped: `vmalloc_dump_obj` finds nothing
                // and `vmalloc_to_page` no page (Linux 6.17+'s wording).
                let _ = out.write_str("The buggy address belongs to a vmalloc virtual mapping\n");
            }
            Backing::Vmalloc { start, end } => {
                // Linux 6.14+ (`vmalloc_dump_obj`): one line, the caller of vmalloc
                // (the frame after the entry frame of the allocation track); then the
                // physical page, for an address in the area's pages (not its guard
                // page, which has none).
                let _ = write!(
                    out,
                    "The buggy address belongs to a {}-page vmalloc region starting at {:#x} allocated at ",
                    o.page.pages, start
                );
                match vmalloc_caller(ctx, o) {
                    Some(pc) => write_symbol_line(out, ctx, pc),
                    None => {
                        let _ = out.write_str("0x0\n");
                    }
                }
                let _ = end;
                if bug.addr >= start && bug.addr < start + o.page.pages * generic::PAGE_SIZE {
                    write_physical_page(out, ctx, bug.addr, o, who);
                }
            }
        }
        return;
    }
    if let Some((low, high)) = who.stack {
        if (low..high).contains(&bug.addr) {
            let task = &who.task;
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

/// Linux's memory dump geometry: five rows of 16 shadow bytes (16 granules: 128
/// bytes of memory in generic mode, 256 in tag modes), two before the row holding
/// `addr` (untagged) and two after. Yields (row address, is the buggy row, bytes).
fn shadow_rows<'a>(
    ctx: &Context<'a>,
    addr: usize,
) -> impl Iterator<Item = (usize, bool, [Option<u8>; 16])> + 'a {
    let row_bytes = 16 * ctx.mode.granule();
    let mode = ctx.mode;
    let row0 = addr & !(row_bytes - 1);
    (0..5usize).map(move |i| {
        let row = row0.wrapping_sub(2 * row_bytes).wrapping_add(i * row_bytes);
        let mut bytes = [None; 16];
        mode.read_row(row, &mut bytes);
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
            let column = 3 + 16 + ((addr - row) / ctx.mode.granule()) * 3 + 1;
            for _ in 0..column - 1 {
                let _ = out.write_str(" ");
            }
            let _ = out.write_str("^\n");
        }
    }
}

/// Linux's taint flags (`kernel/panic.c` `taint_flags`, 6.15+: 20 of them, the
/// last `J`, TAINT_FWCTL): `print_tainted` prints each one's letter or a space, so
/// the field has a fixed width. A report taints the kernel with `B`
/// (TAINT_BAD_PAGE, `end_report`); the first flag prints `G` when clear.
const TAINT_FLAGS: usize = 20;
/// Where `B` is among them.
const TAINT_BAD_PAGE: usize = 5;

/// The first lines of Linux's `dump_stack_print_info` (`lib/dump_stack.c`, 6.15+):
/// `CPU: <cpu> UID: <euid> PID: <pid> Comm: <comm> <taint> <release> <version's
/// first word> <preemption model> ` (the build id, not configured, leaves the
/// trailing space), then `Hardware name: ...`. The runtime names itself as the
/// release (`kasan-<version>`), `#1` as the build, and `PREEMPT(full)`: a process's
/// threads are preempted anywhere.
fn write_cpu_line(out: &mut Out<'_>, ctx: &Context<'_>, who: &Who, tainted: bool) {
    let task = &who.task;
    let _ = write!(
        out,
        "CPU: {} UID: {} PID: {} Comm: {} ",
        who.cpu,
        ctx.platform.uid(),
        task.pid,
        task.comm()
    );
    if tainted {
        let _ = out.write_str("Tainted: ");
        for i in 0..TAINT_FLAGS {
            let _ = out.write_str(match i {
                0 => "G",
                TAINT_BAD_PAGE => "B",
                _ => " ",
            });
        }
    } else {
        let _ = out.write_str("Not tainted");
    }
    let _ = writeln!(
        out,
        " kasan-{} #1 PREEMPT(full) ",
        env!("CARGO_PKG_VERSION")
    );
    if let Some(hw) = ctx.platform.hardware_name() {
        let _ = writeln!(out, "Hardware name: {hw}");
    }
}

/// Returns the bug type of the title.
fn render_text(
    out: &mut Out<'_>,
    ctx: &Context<'_>,
    bug: &Bug<'_>,
    who: &Who,
    tainted: bool,
) -> &'static str {
    let a = analyze(ctx, bug);
    let task = &who.task;
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
    // Tag modes (`kasan_print_tags` in report_sw_tags.c): the pointer's tag and the
    // memory's at the first bad address, for an address with metadata.
    if let Some((ptr_tag, mem_tag)) = a.tags {
        let _ = writeln!(
            out,
            "Pointer tag: [{ptr_tag:02x}], memory tag: [{mem_tag:02x}]"
        );
    }
    let _ = out.write_str("\n");
    write_cpu_line(out, ctx, who, tainted);
    let _ = out.write_str("Call Trace:\n <TASK>\n");
    for &pc in bug.trace {
        write_frame(out, ctx, pc, true);
    }
    let _ = out.write_str(" </TASK>\n");
    // Linux's `print_report`: an address with shadow gets `print_address_description`
    // (whose `dump_stack_lvl` is followed by a blank line) and the memory state; one
    // without gets only the stack dump, right before the closing rule.
    if a.has_metadata {
        let _ = out.write_str("\n");
        // Objects, pages and stacks are described by the untagged address.
        let untagged = Bug {
            addr: a.addr,
            ..*bug
        };
        write_description(out, ctx, &untagged, who, &a);
        write_memory_state(out, ctx, a.first_bad);
    }
    let _ = writeln!(out, "{RULE}");
    a.bug_type
}

/// The version of the JSON lines' schema (`docs/report-json.md`), in every line.
pub const JSON_VERSION: u32 = 1;

/// Whether the process runs in a tag mode, for the `mode` of JSON lines written
/// without a report context (warnings, the panic line, statistics). Set once at
/// start-up ([`set_json_mode`]) before any line is written; read Relaxed (no data
/// hangs on it: a line written before start-up names generic, which it is then).
static JSON_MODE_SW_TAGS: AtomicBool = AtomicBool::new(false);

/// Names the process's mode in every later [`JsonLine`]: `"generic"` or `"sw-tags"`.
pub fn set_json_mode(name: &'static str) {
    // Relaxed: pairs with the Relaxed load in `JsonLine::fmt`; see the static.
    JSON_MODE_SW_TAGS.store(name == "sw-tags", Ordering::Relaxed);
}

/// The start of one JSON line of the given kind (`report`, `warning`, `panic`,
/// `stats`): `{"version":1,"kind":"...","mode":"generic"` (or `"sw-tags"`, see
/// [`set_json_mode`]). The writer adds its own fields and the closing brace.
#[derive(Debug, Clone, Copy)]
pub struct JsonLine(pub &'static str);

impl fmt::Display for JsonLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Relaxed: pairs with the Relaxed store in `set_json_mode`.
        let mode = if JSON_MODE_SW_TAGS.load(Ordering::Relaxed) {
            "sw-tags"
        } else {
            "generic"
        };
        json_head(f, self.0, mode)
    }
}

/// `{"version":1,"kind":"<kind>","mode":"<mode>"`.
fn json_head<W: Write + ?Sized>(f: &mut W, kind: &str, mode: &str) -> fmt::Result {
    write!(
        f,
        "{{\"version\":{JSON_VERSION},\"kind\":\"{kind}\",\"mode\":\"{mode}\""
    )
}

/// A JSON string literal.
struct Json<'a>(&'a str);

/// A JSON string literal, for hosts writing JSON lines of their own.
#[derive(Debug, Clone, Copy)]
pub struct JsonStr<'a>(pub &'a str);

impl fmt::Display for JsonStr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Json(self.0).fmt(f)
    }
}

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

/// `"name":<value or null>` for an optional string.
fn json_opt_str(out: &mut Out<'_>, name: &str, value: Option<&str>) {
    let _ = match value {
        Some(v) => write!(out, ",\"{name}\":{}", Json(v)),
        None => write!(out, ",\"{name}\":null"),
    };
}

/// One frame: `ip`, the symbol (`function`, `offset`, `size`, `file`, `line`, each
/// `null` when unknown) and the functions inlined there (`inlined`, innermost
/// first, as the text report's `[inline]` lines).
fn json_frame(out: &mut Out<'_>, ctx: &Context<'_>, pc: usize, is_return: bool, symbols: bool) {
    let _ = write!(out, "{{\"ip\":\"{pc:#x}\"");
    let mut found = false;
    if symbols {
        ctx.platform
            .symbolize(pc, is_return, &mut |s: &Symbol<'_>| {
                if found {
                    return;
                }
                found = true;
                let _ = write!(
                    out,
                    ",\"function\":{},\"offset\":{}",
                    Json(s.name),
                    s.offset
                );
                let _ = if s.size > 0 {
                    write!(out, ",\"size\":{}", s.size)
                } else {
                    write!(out, ",\"size\":null")
                };
                json_opt_str(out, "file", s.file);
                let _ = match s.line {
                    Some(line) => write!(out, ",\"line\":{line}"),
                    None => write!(out, ",\"line\":null"),
                };
            });
    }
    if !found {
        let _ = out.write_str(
            ",\"function\":null,\"offset\":null,\"size\":null,\"file\":null,\"line\":null",
        );
    }
    let _ = out.write_str(",\"inlined\":[");
    if symbols {
        let mut first = true;
        ctx.platform.inlined(pc, is_return, &mut |s: &Symbol<'_>| {
            let _ = write!(
                out,
                "{}{{\"function\":{}",
                if first { "" } else { "," },
                Json(s.name)
            );
            first = false;
            json_opt_str(out, "file", s.file);
            let _ = match s.line {
                Some(line) => write!(out, ",\"line\":{line}}}"),
                None => write!(out, ",\"line\":null}}"),
            };
        });
    }
    let _ = out.write_str("]}");
}

/// A list of frames; the first is the exact faulting instruction unless
/// `first_is_return` (every other one is a return address).
fn json_frames(
    out: &mut Out<'_>,
    ctx: &Context<'_>,
    frames: &[usize],
    first_is_return: bool,
    symbols: bool,
) {
    let _ = out.write_str("[");
    for (i, &pc) in frames.iter().enumerate() {
        if i > 0 {
            let _ = out.write_str(",");
        }
        json_frame(out, ctx, pc, i > 0 || first_is_return, symbols);
    }
    let _ = out.write_str("]");
}

/// A saved stack's frames, or `null` where the text report says `(stack is not
/// available)`.
fn json_stack(out: &mut Out<'_>, ctx: &Context<'_>, handle: Handle) {
    let frames = ctx.depot.fetch(handle);
    if frames.is_empty() {
        let _ = out.write_str("null");
    } else {
        json_frames(out, ctx, frames, true, true);
    }
}

/// An alloc or free track: task id, CPU and time (with `kasan.extra_info`, else
/// `null`), frames.
fn json_track(out: &mut Out<'_>, ctx: &Context<'_>, track: Option<&Track>) {
    match track {
        None => {
            let _ = out.write_str("null");
        }
        Some(t) => {
            let _ = write!(out, "{{\"task\":{}", t.pid);
            let _ = if ctx.config.extra_info {
                write!(out, ",\"cpu\":{},\"time_ns\":{}", t.cpu, t.time_ns)
            } else {
                write!(out, ",\"cpu\":null,\"time_ns\":null")
            };
            let _ = out.write_str(",\"frames\":");
            json_stack(out, ctx, t.stack);
            let _ = out.write_str("}");
        }
    }
}

/// The fields every report has about who hit it: `task`, `cpu`, `taint` (taint
/// letters beyond `G`: `B` once a report has been printed, as Linux's
/// `TAINT_BAD_PAGE`), `release`.
fn json_who(out: &mut Out<'_>, who: &Who, tainted: bool) {
    let _ = write!(
        out,
        ",\"task\":{{\"comm\":{},\"pid\":{}}},\"cpu\":{},\"taint\":\"{}\",\"release\":\"kasan-{}\"",
        Json(who.task.comm()),
        who.task.pid,
        who.cpu,
        if tainted { "B" } else { "" },
        env!("CARGO_PKG_VERSION")
    );
}

/// `"function":` the name of the function at `ip`, or `null`.
fn json_function(out: &mut Out<'_>, ctx: &Context<'_>, ip: usize, is_return: bool, symbols: bool) {
    let _ = out.write_str(",\"function\":");
    let mut found = false;
    if symbols {
        ctx.platform
            .symbolize(ip, is_return, &mut |s: &Symbol<'_>| {
                if !found {
                    found = true;
                    let _ = write!(out, "{}", Json(s.name));
                }
            });
    }
    if !found {
        let _ = out.write_str("null");
    }
}

/// `page`: the physical-page section's facts (`flags` and `page_type` as their lines
/// print them) and, for page-allocator and large-kmalloc memory, page_owner's record.
fn json_page(out: &mut Out<'_>, ctx: &Context<'_>, addr: usize, o: &ObjectInfo, who: &Who) {
    let f = PageFacts::of(ctx.platform, addr, o);
    let _ = write!(
        out,
        "{{\"pfn\":{},\"order\":{},\"refcount\":{},\"mapcount\":0,\"mapping\":\"0x0\",\"index\":0,\"flags\":\"",
        f.pfn, f.order, f.refcount
    );
    f.write_flags(out);
    let _ = out.write_str("\",\"page_type\":");
    let _ = match f.page_type {
        Some((t, name)) => write!(out, "\"{t:x}({name})\""),
        None => out.write_str("null"),
    };
    let _ = out.write_str(",\"owner\":");
    if matches!(o.page.kind, PageKind::LargeKmalloc | PageKind::Pages) {
        let alloc = o.alloc.unwrap_or_default();
        let tgid = ctx.platform.tgid();
        let comm = if alloc.pid == who.task.pid {
            Some(who.task.comm())
        } else {
            None
        };
        let _ = write!(
            out,
            "{{\"order\":{},\"migratetype\":\"{}\",\"gfp_mask\":\"{:#x}(",
            o.page.pages.max(1).next_power_of_two().trailing_zeros(),
            migratetype(o.page.gfp),
            o.page.gfp
        );
        write_gfp(out, o.page.gfp);
        let _ = write!(out, ")\",\"pid\":{},\"tgid\":{tgid},\"comm\":", alloc.pid);
        let _ = match comm {
            Some(c) => write!(out, "{}", Json(c)),
            None => out.write_str("null"),
        };
        let _ = write!(out, ",\"ts_ns\":{},\"frames\":", alloc.time_ns);
        json_stack(out, ctx, alloc.stack);
        let _ = out.write_str(",\"free\":");
        match o.free {
            Some(t) => {
                let _ = write!(
                    out,
                    "{{\"pid\":{},\"tgid\":{tgid},\"ts_ns\":{},\"frames\":",
                    t.pid, t.time_ns
                );
                json_stack(out, ctx, t.stack);
                let _ = out.write_str("}");
            }
            None => {
                let _ = out.write_str("null");
            }
        }
        let _ = out.write_str("}");
    } else {
        let _ = out.write_str("null");
    }
    let _ = out.write_str("}");
}

/// The description fields that do not apply to a report without metadata.
const JSON_NO_DESCRIPTION: &str = ",\"memory\":null,\"alloc_track\":null,\"free_track\":null,\"aux_stacks\":null,\"object\":null,\"page\":null,\"vmalloc\":null,\"stack\":null,\"variable\":null,\"shadow\":null";

/// The heap object fields: `memory` (what the memory is), the tracks, the aux
/// stacks, `object`, and `page` or `vmalloc` for page-backed and vmalloc memory.
fn json_object(out: &mut Out<'_>, ctx: &Context<'_>, bug: &Bug<'_>, o: &ObjectInfo, who: &Who) {
    let memory = match o.backing {
        Backing::Slab => "slab",
        Backing::Pages(_) => "pages",
        Backing::Vmalloc { .. } => "vmalloc",
    };
    let _ = write!(out, ",\"memory\":\"{memory}\",\"alloc_track\":");
    json_track(out, ctx, o.alloc.as_ref());
    let _ = out.write_str(",\"free_track\":");
    json_track(out, ctx, o.free.as_ref());
    let _ = out.write_str(",\"aux_stacks\":[");
    let mut first = true;
    for &aux in o.aux.iter().filter(|h| h.is_some()) {
        let _ = out.write_str(if first {
            "{\"frames\":"
        } else {
            ",{\"frames\":"
        });
        first = false;
        json_stack(out, ctx, aux);
        let _ = out.write_str("}");
    }
    let size = region_size(ctx, o);
    let (rel, dist) = relation(bug.addr, o.object, size);
    let _ = out.write_str("],\"object\":{\"cache\":");
    let _ = match o.backing {
        // Only slab objects belong to a cache; pages and vmalloc areas have none.
        Backing::Slab => write!(out, "{}", Json(o.cache.as_str())),
        _ => out.write_str("null"),
    };
    let _ = write!(
        out,
        ",\"start\":\"{:#x}\",\"size\":{size},\"object_size\":{},\"state\":\"{}\",\"offset_relation\":\"{}\",\"distance\":{dist}}}",
        o.object,
        o.object_size,
        if o.freed { "freed" } else { "allocated" },
        match rel {
            "to the left" => "left",
            "to the right" => "right",
            _ => "inside",
        }
    );
    let _ = out.write_str(",\"page\":");
    // The page the text's physical-page section describes, where it has one.
    let has_page = match o.backing {
        Backing::Slab | Backing::Pages(_) => true,
        Backing::Vmalloc { start, .. } => {
            bug.addr >= start && bug.addr < start + o.page.pages * generic::PAGE_SIZE
        }
    };
    if has_page {
        json_page(out, ctx, bug.addr, o, who);
    } else {
        let _ = out.write_str("null");
    }
    let _ = out.write_str(",\"vmalloc\":");
    match o.backing {
        Backing::Vmalloc { start, end } => {
            let _ = write!(
                out,
                "{{\"start\":\"{start:#x}\",\"end\":\"{end:#x}\",\"caller\":"
            );
            match vmalloc_caller(ctx, o) {
                Some(pc) => json_frame(out, ctx, pc, true, true),
                None => {
                    let _ = out.write_str("null");
                }
            }
            let _ = out.write_str("}");
        }
        _ => {
            let _ = out.write_str("null");
        }
    }
    let _ = out.write_str(",\"stack\":null,\"variable\":null");
}

/// `"objects":` the objects of a compiler frame description (see
/// [`FrameObjects`]), or `null` if it cannot be read.
fn json_frame_objects(out: &mut Out<'_>, descr: &str) {
    let Some((_, objects)) = FrameObjects::parse(descr) else {
        let _ = out.write_str(",\"objects\":null");
        return;
    };
    let _ = out.write_str(",\"objects\":[");
    for (i, (off, size, name)) in objects.enumerate() {
        let _ = write!(
            out,
            "{}{{\"offset\":{off},\"size\":{size},\"name\":{}}}",
            if i > 0 { "," } else { "" },
            Json(name)
        );
    }
    let _ = out.write_str("]");
}

/// The fields of an address that is no heap object: on the task's stack (`stack`:
/// the frame and its objects) or a global (`variable`).
fn json_not_heap(out: &mut Out<'_>, ctx: &Context<'_>, bug: &Bug<'_>, who: &Who) {
    let on_stack = who
        .stack
        .filter(|&(low, high)| (low..high).contains(&bug.addr));
    let mut variable = false;
    if on_stack.is_none() {
        ctx.platform
            .symbolize(bug.addr, false, &mut |_| variable = true);
    }
    let memory = match (on_stack, variable) {
        (Some(_), _) => "\"stack\"",
        (None, true) => "\"global\"",
        (None, false) => "null",
    };
    let _ = write!(
        out,
        ",\"memory\":{memory},\"alloc_track\":null,\"free_track\":null,\"aux_stacks\":null,\"object\":null,\"page\":null,\"vmalloc\":null,\"stack\":"
    );
    match on_stack {
        Some((low, _)) => {
            let _ = write!(
                out,
                "{{\"task\":{{\"comm\":{},\"pid\":{}}}",
                Json(who.task.comm()),
                who.task.pid
            );
            match find_frame(ctx, bug.addr, low) {
                Some(frame) => {
                    let _ = write!(
                        out,
                        ",\"frame_offset\":{},\"frame\":",
                        bug.addr - frame.base
                    );
                    json_frame(out, ctx, frame.pc, false, true);
                    let mut buf = [0u8; 512];
                    json_frame_objects(out, read_cstr(ctx, frame.descr, &mut buf));
                }
                None => {
                    let _ = out.write_str(",\"frame_offset\":null,\"frame\":null,\"objects\":null");
                }
            }
            let _ = out.write_str("}");
        }
        None => {
            let _ = out.write_str("null");
        }
    }
    let _ = out.write_str(",\"variable\":");
    let mut found = false;
    if variable {
        ctx.platform
            .symbolize(bug.addr, false, &mut |s: &Symbol<'_>| {
                if found {
                    return;
                }
                found = true;
                let _ = write!(
                    out,
                    "{{\"name\":{},\"offset\":{},\"size\":",
                    Json(s.name),
                    s.offset
                );
                let _ = if s.size > 0 {
                    write!(out, "{}}}", s.size)
                } else {
                    out.write_str("null}")
                };
            });
    }
    if !found {
        let _ = out.write_str("null");
    }
}

/// `"shadow":` the memory-state rows around `addr` (each byte a number, `null`
/// where the shadow cannot be read).
fn json_shadow(out: &mut Out<'_>, ctx: &Context<'_>, addr: usize) {
    let _ = out.write_str(",\"shadow\":[");
    for (i, (row, buggy, bytes)) in shadow_rows(ctx, addr).enumerate() {
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
}

/// A KASAN report as one JSON line (schema: `docs/report-json.schema.json`).
/// Returns the report's bug type.
fn render_json(
    out: &mut Out<'_>,
    ctx: &Context<'_>,
    bug: &Bug<'_>,
    who: &Who,
    tainted: bool,
) -> &'static str {
    let a = analyze(ctx, bug);
    let ip = bug.trace.first().copied().unwrap_or(0);
    let access = match bug.kind {
        Kind::Access if bug.is_write => "write",
        Kind::Access => "read",
        _ => "free",
    };
    let _ = json_head(out, "report", ctx.mode.name());
    let _ = write!(
        out,
        ",\"bug_type\":{},\"access\":\"{access}\",\"size\":{},\"addr\":\"{:#x}\",\"first_bad_addr\":",
        Json(a.bug_type),
        bug.size,
        bug.addr
    );
    let _ = if a.has_metadata {
        write!(out, "\"{:#x}\"", a.first_bad)
    } else {
        out.write_str("null")
    };
    let _ = match a.tags {
        Some((ptr_tag, mem_tag)) => {
            write!(out, ",\"pointer_tag\":{ptr_tag},\"memory_tag\":{mem_tag}")
        }
        None => out.write_str(",\"pointer_tag\":null,\"memory_tag\":null"),
    };
    let _ = write!(out, ",\"ip\":\"{ip:#x}\"");
    json_function(out, ctx, ip, true, true);
    json_who(out, who, tainted);
    let _ = out.write_str(",\"frames\":");
    json_frames(out, ctx, bug.trace, true, true);
    // Objects, pages and stacks are described by the untagged address.
    let untagged = Bug {
        addr: a.addr,
        ..*bug
    };
    match (&a.object, a.has_metadata) {
        (_, false) => {
            let _ = out.write_str(JSON_NO_DESCRIPTION);
        }
        (Some(o), true) => json_object(out, ctx, &untagged, o, who),
        (None, true) => json_not_heap(out, ctx, &untagged, who),
    }
    if a.has_metadata {
        json_shadow(out, ctx, a.first_bad);
    }
    let _ = out.write_str(",\"fault\":null}\n");
    a.bug_type
}

/// A general protection fault as one JSON line: the report's fields, `null` where
/// a fault does not know them, and `fault` with what it does.
fn json_gpf(
    out: &mut Out<'_>,
    ctx: &Context<'_>,
    entry: &Entry<'_>,
    fault: &Gpf,
    oops: u32,
    symbols: bool,
) {
    let (qualifier, bug_type) = gpf_bug_type(ctx, fault.addr);
    let ip = entry.trace.first().copied().unwrap_or(0);
    let ip_is_return = fault.regs.is_none();
    let _ = json_head(out, "report", ctx.mode.name());
    let _ = write!(out, ",\"bug_type\":\"{bug_type}\"");
    let _ = match fault.access {
        Some((size, is_write)) => write!(
            out,
            ",\"access\":\"{}\",\"size\":{size}",
            if is_write { "write" } else { "read" }
        ),
        None => out.write_str(",\"access\":null,\"size\":null"),
    };
    let _ = write!(
        out,
        ",\"addr\":\"{:#x}\",\"first_bad_addr\":null,\"pointer_tag\":null,\"memory_tag\":null,\"ip\":\"{ip:#x}\"",
        fault.addr
    );
    json_function(out, ctx, ip, ip_is_return, symbols);
    json_who(out, &entry.who, entry.index > 0);
    let _ = out.write_str(",\"frames\":");
    json_frames(out, ctx, entry.trace, ip_is_return, symbols);
    let _ = out.write_str(JSON_NO_DESCRIPTION);
    let _ = write!(
        out,
        ",\"fault\":{{\"type\":\"general protection fault\",\"shadow_addr\":\"{:#x}\",\"qualifier\":",
        fault.shadow_addr
    );
    let _ = match qualifier {
        Some(q) => write!(out, "\"{q}\""),
        None => out.write_str("null"),
    };
    let _ = write!(
        out,
        ",\"range\":[\"{:#x}\",\"{:#x}\"],\"error_code\":{},\"oops\":{oops},\"registers\":",
        fault.addr,
        fault.addr.wrapping_add(GRANULE_SIZE - 1),
        fault.regs.map_or(0, |r| r.error_code & 0xffff)
    );
    match &fault.regs {
        None => {
            let _ = out.write_str("null,\"code\":null");
        }
        Some(r) => {
            let _ = write!(
                out,
                "{{\"RIP\":\"{:#x}\",\"RSP\":\"{:#x}\",\"EFLAGS\":\"{:#x}\"",
                r.ip, r.sp, r.flags
            );
            for (name, value) in REGISTER_NAMES.iter().zip(r.gp) {
                let _ = write!(out, ",\"{name}\":\"{value:#x}\"");
            }
            let _ = out.write_str("},\"code\":");
            match read_code(ctx, r.ip) {
                Some(code) => {
                    let _ = write!(
                        out,
                        "{{\"start\":\"{:#x}\",\"ip_offset\":{CODE_PROLOGUE},\"bytes\":[",
                        r.ip - CODE_PROLOGUE
                    );
                    for (i, b) in code.iter().enumerate() {
                        let _ = write!(out, "{}{b}", if i > 0 { "," } else { "" });
                    }
                    let _ = out.write_str("]}");
                }
                None => {
                    let _ = out.write_str("null");
                }
            }
        }
    }
    let _ = out.write_str("}}\n");
}

/// The warning line of bugs dropped from a full queue, in JSON mode.
fn json_dropped(out: &mut Out<'_>, dropped: usize) {
    let _ = writeln!(
        out,
        "{},\"warning\":\"nested reports dropped\",\"dropped\":{dropped},\"queue\":{QUEUE_LEN}}}",
        JsonLine("warning")
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generic::Generic;
    use crate::shadow::encoding::*;
    use crate::testing::{FakeMemory, FakePlatform};
    extern crate std;
    use std::string::String;

    /// A tag mode's report view over a table of granule tags, following Linux's
    /// report_sw_tags.c / report_tags.c rules: `carrier` says where the tag lives
    /// (arm64's top byte with 8-bit tags, or the x86-64 alias bits 40..43 stored as
    /// `tag ^ 0xF`), `invalid` is KASAN_TAG_INVALID, `ring` what the stack ring holds.
    struct TagView {
        /// Untagged address of the first granule with a tag.
        base: usize,
        tags: std::vec::Vec<u8>,
        carrier: Carrier,
        invalid: u8,
        ring: Option<RingFind>,
        ring_calls: AtomicUsize,
    }

    #[derive(Clone, Copy)]
    enum Carrier {
        /// arm64 TBI: the tag is the top byte; the native (untagged) one is 0xFF.
        TopByte,
        /// x86-64 aliases: bits 40..43 hold `tag ^ 0xF` inside the 2^44-aligned region.
        Alias { region: usize },
    }

    impl TagView {
        fn tag_of(&self, addr: usize) -> u8 {
            match self.carrier {
                Carrier::TopByte => (addr >> 56) as u8,
                Carrier::Alias { region } if addr >> 44 == region >> 44 => {
                    (((addr >> 40) & 0xF) ^ 0xF) as u8
                }
                Carrier::Alias { .. } => 0xF,
            }
        }
        fn with_tag(&self, addr: usize, tag: u8) -> usize {
            match self.carrier {
                Carrier::TopByte => (addr & !(0xff << 56)) | (usize::from(tag) << 56),
                Carrier::Alias { .. } => self.untag(addr) | (usize::from(tag ^ 0xF) << 40),
            }
        }
        fn tag_at(&self, addr: usize) -> Option<u8> {
            let i = addr.checked_sub(self.base)? / 16;
            self.tags.get(i).copied()
        }
    }

    impl ReportMode for TagView {
        fn name(&self) -> &'static str {
            "sw-tags"
        }
        fn granule(&self) -> usize {
            16
        }
        fn has_metadata(&self, addr: usize) -> bool {
            self.tag_at(self.untag(addr)).is_some()
        }
        fn untag(&self, addr: usize) -> usize {
            match self.carrier {
                Carrier::TopByte => addr | (0xff << 56),
                Carrier::Alias { region } if addr >> 44 == region >> 44 => addr & !(0xF << 40),
                Carrier::Alias { .. } => addr,
            }
        }
        fn first_bad_addr(&self, addr: usize, size: usize) -> usize {
            let tag = self.tag_of(addr);
            let mut p = self.untag(addr);
            let end = p.saturating_add(size);
            while p < end && self.tag_at(p) == Some(tag) {
                p = (p & !15) + 16;
            }
            p.min(end)
        }
        fn tags(&self, addr: usize, first_bad: usize) -> Option<(u8, u8)> {
            Some((self.tag_of(addr), self.tag_at(first_bad)?))
        }
        fn bug_type(
            &self,
            addr: usize,
            size: usize,
            _first_bad: usize,
            object: Option<&ObjectInfo>,
            ring: Option<&RingFind>,
        ) -> &'static str {
            let common = if addr.checked_add(size).is_none() {
                "out-of-bounds"
            } else {
                "invalid-access"
            };
            match (object, ring.and_then(|r| r.newest_is_free)) {
                (Some(_), Some(true)) => "slab-use-after-free",
                (Some(_), Some(false)) => "slab-out-of-bounds",
                _ => common,
            }
        }
        fn region_size(&self, object: usize, object_size: usize) -> usize {
            let granules = (0..object_size.div_ceil(16))
                .take_while(|i| {
                    self.tag_at(object + i * 16)
                        .is_some_and(|t| t != self.invalid)
                })
                .count();
            match granules * 16 {
                0 => object_size,
                n => n.min(object_size.next_multiple_of(16)),
            }
        }
        fn region_state_word(&self) -> bool {
            false
        }
        fn read_row(&self, row: usize, out: &mut [Option<u8>; 16]) {
            for (i, slot) in out.iter_mut().enumerate() {
                *slot = self.tag_at(row.wrapping_add(i * 16));
            }
        }
        fn ring_find(&self, tagged: usize, object: usize, _object_size: usize) -> Option<RingFind> {
            self.ring_calls.fetch_add(1, Ordering::Relaxed);
            (self.untag(tagged) >= object).then_some(self.ring?)
        }
    }

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
                page: PageInfo {
                    kind: PageKind::Slab,
                    // As Linux's direct map would put the test memory.
                    start: 0xffff_8880_0010_0000,
                    pages: 1,
                    compound: false,
                    objects: 32,
                    inuse: 1,
                    freelist: 0,
                    gfp: 0,
                },
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
            mode: &Generic { shadow },
            generic: Some(&shadow),
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

CPU: 1 UID: 0 PID: 7 Comm: kunit_try_catch Not tainted kasan-0.1.0 #1 PREEMPT(full) \n\
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

The buggy address belongs to the physical page:
page: refcount:0 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0xffff888000100
flags: 0x17ff00000000000(node=0|zone=2|lastcpupid=0x7ff)
page_type: f5(slab)
raw: 017ff00000000000 0000000000000000 0000000000000000 0000000000000000
raw: 0000000000000000 0000000000200001 00000000f5000000 0000000000000000
page dumped because: kasan: bad access detected

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

    /// A heap of one slab object for tag-mode reports: no tracks of its own (tag
    /// modes keep them in the stack ring).
    struct TagHeap {
        object: usize,
        size: usize,
        cache: &'static str,
        freed: bool,
    }

    impl Describe for TagHeap {
        fn object(&self, addr: usize) -> Option<ObjectInfo> {
            (addr >= self.object && addr < self.object + self.size).then(|| ObjectInfo {
                cache: Name::new(self.cache),
                object: self.object,
                object_size: self.size,
                backing: Backing::Slab,
                freed: self.freed,
                alloc: None,
                free: None,
                aux: [Handle::NONE; 2],
                page: PageInfo {
                    kind: PageKind::Slab,
                    start: self.object & !0xfff,
                    pages: 1,
                    compound: false,
                    objects: 32,
                    inuse: 1,
                    freelist: 0,
                    gfp: 0,
                },
            })
        }
        fn stack_bounds(&self) -> Option<(usize, usize)> {
            None
        }
    }

    /// Reports `bug` through `view` and `heap`; the ring (if any) holds an alloc by
    /// task 7 at 0x1010 <- 0x1120 and, when `with_free`, a free by task 8 at 0x1018.
    fn tag_run(
        config: &Config,
        mut view: TagView,
        heap: &TagHeap,
        ring: Option<bool>,
        bug: Bug<'_>,
    ) -> (String, usize) {
        let depot = StackDepot::new();
        view.ring = ring.map(|newest_is_free| RingFind {
            alloc: Some(Track {
                pid: 7,
                stack: depot.save(&[0x1010, 0x1120], true, &Pools),
                ..Track::default()
            }),
            free: newest_is_free.then(|| Track {
                pid: 8,
                stack: depot.save(&[0x1018], true, &Pools),
                ..Track::default()
            }),
            newest_is_free: Some(newest_is_free),
        });
        let platform = FakePlatform::default();
        let ctx = Context {
            config,
            mode: &view,
            generic: None,
            platform: &platform,
            describe: heap,
            depot: &depot,
        };
        assert!(Reporter::new().report(&ctx, &bug));
        (platform.take(), view.ring_calls.load(Ordering::Relaxed))
    }

    /// The real pieces together: `SwTags` (4-bit tags in bits 56..59 of test memory)
    /// recording into the real stack ring (both designs), its report view classifying
    /// from the ring. An object of 40 bytes in a 64-byte slot: a read at byte 48 while
    /// it lives is slab-out-of-bounds naming the alloc; after its free, a read at byte
    /// 8 is slab-use-after-free naming both; a read through another tag finds nothing
    /// in the ring: invalid-access.
    #[test]
    fn tag_mode_report_from_sw_tags_and_the_stack_ring() {
        use crate::mode::{Mode, TagPolicy};
        use crate::stack_ring::{BoundRing, RingDesign, StackRing};
        use crate::sw_tags::{SwTags, TagCarrier, X86_64};
        use crate::testing::{FakeClock, FakePools, FakeTagMemory, FAKE_CARRIER};
        for design in [RingDesign::Global, RingDesign::PerCpu] {
            let mem: &'static FakeTagMemory =
                std::boxed::Box::leak(std::boxed::Box::new(FakeTagMemory::new(4096)));
            let depot: &'static StackDepot =
                std::boxed::Box::leak(std::boxed::Box::new(StackDepot::new()));
            let ring: &'static StackRing =
                std::boxed::Box::leak(std::boxed::Box::new(StackRing::new()));
            assert!(ring.init(design, 1024, 2, true, &FakePools));
            let clock: &'static FakeClock =
                std::boxed::Box::leak(std::boxed::Box::new(FakeClock::default()));
            let bound: &'static BoundRing =
                std::boxed::Box::leak(std::boxed::Box::new(BoundRing { ring, depot, clock }));
            let mode = SwTags::new(mem.shadow(FAKE_CARRIER, X86_64), bound);
            let object = mem.base() + 1024;
            mode.poison_slab(mem.base(), 4096);
            let (tagged, tag) = mode.slab_alloc(object, 64, 40, TagPolicy::FreshEachAlloc, 0xF, 0);
            assert!(tag <= 0xD);
            assert_eq!(FAKE_CARRIER.untag(tagged), object);
            let track = |pid, frames: &[usize]| Track {
                pid,
                stack: depot.save_flags(
                    frames,
                    crate::stack::SaveFlags::CAN_ALLOC | crate::stack::SaveFlags::GET,
                    &FakePools,
                ),
                ..Track::default()
            };
            Mode::record(&mode, tagged, 64, false, &track(7, &[0x1010, 0x1120]), 1);
            let heap = TagHeap {
                object,
                size: 64,
                cache: "kmalloc-64",
                freed: false,
            };
            let platform = FakePlatform::default();
            let config = Config::default();
            let report = |heap: &TagHeap, addr: usize| {
                let mut config = config;
                config.multi_shot = true;
                let ctx = Context {
                    config: &config,
                    mode: &mode,
                    generic: None,
                    platform: &platform,
                    describe: heap,
                    depot,
                };
                let bug = Bug {
                    kind: Kind::Access,
                    addr,
                    size: 1,
                    is_write: false,
                    trace: &[0x1044],
                };
                assert!(Reporter::new().report(&ctx, &bug));
                platform.take()
            };
            let text = report(&heap, tagged + 48);
            assert!(
                text.contains("BUG: KASAN: slab-out-of-bounds in kmalloc_oob_right+0x44/0x100\n"),
                "{text}"
            );
            assert!(
                text.contains(&std::format!(
                    "Pointer tag: [{tag:02x}], memory tag: [0e]\n\n"
                )),
                "{text}"
            );
            assert!(
                text.contains("Allocated by task 7:\n") && !text.contains("Freed by task"),
                "{text}"
            );
            assert!(text.contains(" 48-byte region ["), "{text}");
            mode.poison_free(object, 64, false, false);
            Mode::record(&mode, tagged, 64, true, &track(8, &[0x1018]), 0);
            let heap = TagHeap {
                freed: true,
                ..heap
            };
            let text = report(&heap, tagged + 8);
            assert!(
                text.contains("BUG: KASAN: slab-use-after-free in "),
                "{text}"
            );
            assert!(
                text.contains("Allocated by task 7:\n") && text.contains("Freed by task 8:\n"),
                "{text}"
            );
            assert!(text.contains(" 64-byte region ["), "{text}");
            let other = FAKE_CARRIER.with_tag(object, (tag + 1) % 14);
            let text = report(&heap, other + 8);
            assert!(text.contains("BUG: KASAN: invalid-access in "), "{text}");
            assert!(!text.contains("Allocated by task"), "{text}");
        }
    }

    /// Linux arm64 (8-bit tags): a write through a pointer tagged 0xf9 into a freed
    /// kmalloc-128 object (memory tag 0xfe, KASAN_TAG_INVALID). The lines after the
    /// access line follow `kasan_print_tags` in mm/kasan/report_sw_tags.c; the
    /// address and the tags are those of a real arm64 report quoted in Linux commit
    /// ab0377803daf ("mrp: introduce active flags to prevent UAF when applicant
    /// uninit", CVE-2022-50697): `Write at addr f9ff000024df6058 by task
    /// syz-fuzzer/2256` / `Pointer tag: [f9], memory tag: [fe]`, then the blank line.
    #[test]
    fn tag_mode_use_after_free_is_linux_sw_tags_layout() {
        let object = 0xffff_0000_24df_6000;
        let mut tags = std::vec![0x3c; 48];
        // Two rows before the object's row belong to other objects (tag 0x3c); the
        // object's 8 granules are freed; the next object has tag 0x71.
        tags[32..40].fill(0xfe);
        tags[40..48].fill(0x71);
        let view = TagView {
            base: object - 512,
            tags,
            carrier: Carrier::TopByte,
            invalid: 0xfe,
            ring: None,
            ring_calls: AtomicUsize::new(0),
        };
        let heap = TagHeap {
            object,
            size: 128,
            cache: "kmalloc-128",
            freed: true,
        };
        let addr = view.with_tag(object + 0x58, 0xf9);
        assert_eq!(addr, 0xf9ff_0000_24df_6058);
        let bug = Bug {
            kind: Kind::Access,
            addr,
            size: 8,
            is_write: true,
            trace: &[0x1044, 0x1188],
        };
        let (text, calls) = tag_run(&Config::default(), view, &heap, Some(true), bug);
        assert_eq!(calls, 1);
        let expected = "\
==================================================================
BUG: KASAN: slab-use-after-free in kmalloc_oob_right+0x44/0x100
Write of size 8 at addr f9ff000024df6058 by task kunit_try_catch/7
Pointer tag: [f9], memory tag: [fe]

CPU: 1 UID: 0 PID: 7 Comm: kunit_try_catch Not tainted kasan-0.1.0 #1 PREEMPT(full) \n\
Call Trace:
 <TASK>
 kmalloc_oob_right+0x44/0x100 mm/kasan/kasan_test.c:109
 kunit_try_run_case+0x88/0x100 mm/kasan/kasan_test.c:177
 </TASK>

Allocated by task 7:
 kmalloc_oob_right+0x10/0x100 mm/kasan/kasan_test.c:57
 kunit_try_run_case+0x20/0x100 mm/kasan/kasan_test.c:73

Freed by task 8:
 kmalloc_oob_right+0x18/0x100 mm/kasan/kasan_test.c:65

The buggy address belongs to the object at ffff000024df6000
 which belongs to the cache kmalloc-128 of size 128
The buggy address is located 88 bytes inside of
 128-byte region [ffff000024df6000, ffff000024df6080)

The buggy address belongs to the physical page:
page: refcount:0 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0xffff000024df6
flags: 0x17ff00000000000(node=0|zone=2|lastcpupid=0x7ff)
page_type: f5(slab)
raw: 017ff00000000000 0000000000000000 0000000000000000 0000000000000000
raw: 0000000000000000 0000000000200001 00000000f5000000 0000000000000000
page dumped because: kasan: bad access detected

Memory state around the buggy address:
 ffff000024df5e00: 3c 3c 3c 3c 3c 3c 3c 3c 3c 3c 3c 3c 3c 3c 3c 3c
 ffff000024df5f00: 3c 3c 3c 3c 3c 3c 3c 3c 3c 3c 3c 3c 3c 3c 3c 3c
>ffff000024df6000: fe fe fe fe fe fe fe fe 71 71 71 71 71 71 71 71
                                  ^
 ffff000024df6100: ?? ?? ?? ?? ?? ?? ?? ?? ?? ?? ?? ?? ?? ?? ?? ??
 ffff000024df6200: ?? ?? ?? ?? ?? ?? ?? ?? ?? ?? ?? ?? ?? ?? ?? ??
==================================================================
";
        assert_eq!(text, expected);
    }

    /// x86-64 4-bit tags (the Linux x86 series: KASAN_TAG_KERNEL 0xF, INVALID 0xE),
    /// printed through the same `%02x`: a read one granule past a 13-byte object
    /// (tag 3) lands in the next granule (0e). The region is the granule-rounded
    /// allocation, the state word is absent, the object address is untagged.
    #[test]
    fn tag_mode_out_of_bounds_with_4_bit_tags() {
        let region = 0x1000_0000_0000;
        let object = region + 0x4_0000;
        let mut tags = std::vec![0x0e; 64];
        tags[32] = 0x03;
        tags[34] = 0x05;
        let view = TagView {
            base: object - 512,
            tags,
            carrier: Carrier::Alias { region },
            invalid: 0x0e,
            ring: None,
            ring_calls: AtomicUsize::new(0),
        };
        let heap = TagHeap {
            object,
            size: 16,
            cache: "kmalloc-16",
            freed: false,
        };
        let addr = view.with_tag(object + 16, 0x03);
        assert_eq!(addr, 0x1c00_0004_0010);
        assert_eq!(view.untag(addr), object + 16);
        let bug = Bug {
            kind: Kind::Access,
            addr,
            size: 1,
            is_write: false,
            trace: &[0x1044],
        };
        // The heap describes the address as part of the 16-byte slot before it (as the
        // slab's `Describe` does for the space right after an object).
        let heap = TagHeap { size: 32, ..heap };
        let (text, _) = tag_run(&Config::default(), view, &heap, Some(false), bug);
        assert!(
            text.contains(
                "BUG: KASAN: slab-out-of-bounds in kmalloc_oob_right+0x44/0x100\n\
             Read of size 1 at addr 00001c0000040010 by task kunit_try_catch/7\n\
             Pointer tag: [03], memory tag: [0e]\n\n"
            ),
            "{text}"
        );
        assert!(text.contains("Allocated by task 7:\n"));
        assert!(!text.contains("Freed by task"));
        assert!(
            text.contains(
                "The buggy address belongs to the object at 0000100000040000\n \
             which belongs to the cache kmalloc-16 of size 32\n\
             The buggy address is located 0 bytes to the right of\n \
             16-byte region [0000100000040000, 0000100000040010)\n"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                ">0000100000040000: 03 0e 05 0e 0e 0e 0e 0e 0e 0e 0e 0e 0e 0e 0e 0e\n\
             \x20                     ^\n"
            ),
            "{text}"
        );
    }

    /// Tag mode without a ring entry for the pointer and without an object: Linux's
    /// common types (`invalid-access`, or `out-of-bounds` for a wrapping range).
    #[test]
    fn tag_mode_without_ring_entry_is_invalid_access() {
        let region = 0x1000_0000_0000;
        let make = || TagView {
            base: region,
            tags: std::vec![0x0e; 64],
            carrier: Carrier::Alias { region },
            invalid: 0x0e,
            ring: None,
            ring_calls: AtomicUsize::new(0),
        };
        let heap = TagHeap {
            object: region + 0x200,
            size: 64,
            cache: "kmalloc-64",
            freed: false,
        };
        let addr = make().with_tag(region + 0x100, 0x07);
        let bug = Bug {
            kind: Kind::Access,
            addr,
            size: 4,
            is_write: false,
            trace: &[0x1044],
        };
        let (text, calls) = tag_run(&Config::default(), make(), &heap, None, bug);
        assert_eq!(calls, 0, "no object: no ring scan");
        assert!(text.contains("BUG: KASAN: invalid-access in "), "{text}");
        assert!(
            text.contains("Pointer tag: [07], memory tag: [0e]\n\n"),
            "{text}"
        );
        assert!(!text.contains("belongs to the object"));
        let bug = Bug {
            addr: usize::MAX - 1,
            ..bug
        };
        let (text, _) = tag_run(&Config::default(), make(), &heap, None, bug);
        assert!(text.contains("BUG: KASAN: out-of-bounds in "), "{text}");
        // No metadata there: no tag line, no description.
        assert!(!text.contains("Pointer tag"), "{text}");
    }

    /// A double free in tag mode: `Free of addr` with the tagged pointer, the tag
    /// line, and the tracks from the ring; the type stays double-free.
    #[test]
    fn tag_mode_double_free_names_ring_tracks() {
        let region = 0x1000_0000_0000;
        let object = region + 0x200;
        let view = TagView {
            base: region,
            tags: std::vec![0x0e; 64],
            carrier: Carrier::Alias { region },
            invalid: 0x0e,
            ring: None,
            ring_calls: AtomicUsize::new(0),
        };
        let heap = TagHeap {
            object,
            size: 64,
            cache: "kmalloc-64",
            freed: true,
        };
        let addr = view.with_tag(object, 0x0a);
        let bug = Bug {
            kind: Kind::DoubleFree,
            addr,
            size: 0,
            is_write: true,
            trace: &[0x1044],
        };
        let (text, calls) = tag_run(&Config::default(), view, &heap, Some(true), bug);
        assert_eq!(calls, 1);
        assert!(
            text.contains(
                "BUG: KASAN: double-free in kmalloc_oob_right+0x44/0x100\n\
             Free of addr 0000150000000200 by task kunit_try_catch/7\n\
             Pointer tag: [0a], memory tag: [0e]\n\n"
            ),
            "{text}"
        );
        assert!(text.contains("Allocated by task 7:\n"));
        assert!(text.contains("Freed by task 8:\n"));
        assert!(text.contains(" 64-byte region [0000100000000200, 0000100000000240)\n"));
    }

    #[test]
    fn tag_mode_json_names_mode_and_tags() {
        let mut config = Config::default();
        config.format = Format::Json;
        let region = 0x1000_0000_0000;
        let object = region + 0x200;
        let mut tags = std::vec![0x0e; 64];
        tags[32] = 0x03;
        let view = TagView {
            base: region,
            tags,
            carrier: Carrier::Alias { region },
            invalid: 0x0e,
            ring: None,
            ring_calls: AtomicUsize::new(0),
        };
        let heap = TagHeap {
            object,
            size: 32,
            cache: "kmalloc-16",
            freed: false,
        };
        let addr = view.with_tag(object + 16, 0x03);
        let bug = Bug {
            kind: Kind::Access,
            addr,
            size: 1,
            is_write: true,
            trace: &[0x1044],
        };
        let (text, _) = tag_run(&config, view, &heap, Some(false), bug);
        assert_eq!(text.lines().count(), 1);
        for field in [
            "{\"version\":1,\"kind\":\"report\",\"mode\":\"sw-tags\",",
            "\"bug_type\":\"slab-out-of-bounds\"",
            "\"addr\":\"0x1c0000000210\",\"first_bad_addr\":\"0x100000000210\",\"pointer_tag\":3,\"memory_tag\":14,",
            "\"alloc_track\":{\"task\":7",
            "\"free_track\":null",
            "\"start\":\"0x100000000200\",\"size\":16,",
            "\"offset_relation\":\"right\",\"distance\":0",
            "{\"addr\":\"0x100000000200\",\"buggy\":true,\"bytes\":[3,14,",
        ] {
            assert!(text.contains(field), "missing {field} in {text}");
        }
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
                mode: &Generic { shadow },
                generic: Some(&shadow),
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
            "{\"version\":1,\"kind\":\"report\",\"mode\":\"generic\",",
            "\"bug_type\":\"slab-out-of-bounds\"",
            "\"first_bad_addr\":\"0x",
            "\"pointer_tag\":null,\"memory_tag\":null,\"ip\":",
            "\"memory\":\"slab\"",
            "\"cpu\":1,\"taint\":\"\"",
            "\"inlined\":[]",
            "\"aux_stacks\":[]",
            "\"page\":{\"pfn\":",
            "\"refcount\":0,\"mapcount\":0,\"mapping\":\"0x0\",\"index\":0,\"flags\":\"0x17ff00000000000(node=0|zone=2|lastcpupid=0x7ff)\",\"page_type\":\"f5(slab)\",\"owner\":null},\"vmalloc\":null,\"stack\":null,\"variable\":null",
            "\"fault\":null}",
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

    /// Reports a shadow fault of `addr` (with registers, as a fault handler
    /// sees it, or without, as an inline check calls the runtime) in `format`.
    fn gpf_run(addr: usize, regs: Option<Registers>, format: Format) -> String {
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
        let mut config = Config::default();
        config.format = format;
        let ctx = Context {
            config: &config,
            mode: &Generic { shadow },
            generic: Some(&shadow),
            platform: &platform,
            describe: &heap,
            depot: &depot,
        };
        let fault = Gpf {
            shadow_addr: if addr < 4096 {
                0xdffffc0000000000 + (addr >> 3)
            } else {
                shadow.shadow_addr(addr)
            },
            addr: addr & !7,
            access: regs.is_none().then_some((8, false)),
            regs,
        };
        Reporter::new().report_shadow_fault(&ctx, &fault, &[0x1044, 0x1188]);
        platform.take()
    }

    #[test]
    fn shadow_fault_types_for_a_kernel_shadow() {
        // A kernel's shadow covers the upper half: below it lie user addresses up to
        // TASK_SIZE_MAX, then non-canonical (wild) ones.
        // SAFETY: the shadow is never read or written here; only its range is used.
        let shadow =
            unsafe { Shadow::new(0xdfff_fc00_0000_0000, 0xffff_8000_0000_0000, usize::MAX) };
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
            mode: &Generic { shadow },
            generic: Some(&shadow),
            platform: &platform,
            describe: &heap,
            depot: &depot,
        };
        assert_eq!(gpf_bug_type(&ctx, 0x10).1, "null-ptr-deref");
        assert_eq!(gpf_bug_type(&ctx, 0x40_0000).1, "user-memory-access");
        assert_eq!(
            gpf_bug_type(&ctx, 0xdead_0000_0000_0000).1,
            "wild-memory-access"
        );
    }

    #[test]
    fn shadow_fault_is_linux_general_protection_fault() {
        let regs = Registers {
            ip: 0x1044,
            sp: 0x7ffc_0000_1000,
            flags: 0x10246,
            error_code: 0,
            gp: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
        };
        let text = gpf_run(0xdead_0000_0000_0000, Some(regs), Format::Text);
        let lines: std::vec::Vec<&str> = text.lines().collect();
        assert!(
            lines[0].starts_with(
                "Oops: general protection fault, probably for non-canonical address 0x"
            ),
            "{text}"
        );
        assert!(lines[0].contains(": 0000 [#") && lines[0].ends_with("] SMP KASAN"));
        assert_eq!(
            lines[1],
            "KASAN: maybe wild-memory-access in range [0xdead000000000000-0xdead000000000007]"
        );
        assert!(
            lines[2].starts_with("CPU: 1 UID: 0 PID: 7 Comm: kunit_try_catch ")
                && lines[2].ends_with(" #1 PREEMPT(full) "),
            "{text}"
        );
        assert_eq!(
            lines[3],
            "RIP: 0010:kmalloc_oob_right+0x44/0x100 mm/kasan/kasan_test.c:110"
        );
        // The fake memory holds no code there.
        assert_eq!(lines[4], "Code: Unable to access opcode bytes at 0x101a.");
        assert_eq!(lines[5], "RSP: 0018:00007ffc00001000 EFLAGS: 00010246");
        assert_eq!(
            lines[6],
            "RAX: 0000000000000001 RBX: 0000000000000002 RCX: 0000000000000003"
        );
        assert_eq!(
            lines[10],
            "R13: 000000000000000d R14: 000000000000000e R15: 000000000000000f"
        );
        // The call trace holds the callers; the faulting function is the RIP line.
        assert_eq!(
            &lines[11..15],
            [
                "Call Trace:",
                " <TASK>",
                " kunit_try_run_case+0x88/0x100 mm/kasan/kasan_test.c:177",
                " </TASK>"
            ]
        );
        assert_eq!(
            &lines[15..18],
            [
                "Modules linked in:",
                "---[ end trace 0000000000000000 ]---",
                "RIP: 0010:kmalloc_oob_right+0x44/0x100 mm/kasan/kasan_test.c:110"
            ]
        );
        assert_eq!(lines.len(), 25, "{text}");
        assert_eq!(&lines[17..25], &lines[3..11]);
    }

    #[test]
    fn null_page_fault_without_registers() {
        let text = gpf_run(8, None, Format::Text);
        let lines: std::vec::Vec<&str> = text.lines().collect();
        assert!(
            lines[0].starts_with("Oops: general protection fault, probably for non-canonical address 0xdffffc0000000001: 0000 [#"),
            "{text}"
        );
        assert_eq!(
            lines[1],
            "KASAN: null-ptr-deref in range [0x0000000000000008-0x000000000000000f]"
        );
        assert!(lines[3].starts_with("RIP: 0010:kmalloc_oob_right+0x44/0x100"));
        assert_eq!(lines[4], "Call Trace:");
        assert!(!text.contains("Code:") && !text.contains("RSP:"));
        assert_eq!(lines.last(), Some(&lines[3]));
    }

    #[test]
    fn json_gpf_sets_what_it_does_not_know_to_null() {
        let text = gpf_run(
            0xdead_0000_0000_0000,
            Some(Registers::default()),
            Format::Json,
        );
        assert_eq!(text.lines().count(), 1);
        for field in [
            "{\"version\":1,\"kind\":\"report\",\"mode\":\"generic\",\"bug_type\":\"wild-memory-access\"",
            "\"access\":null,\"size\":null,",
            "\"first_bad_addr\":null",
            "\"alloc_track\":null",
            "\"object\":null",
            "\"shadow\":null",
            "\"qualifier\":\"maybe\"",
            "\"range\":[\"0xdead000000000000\",\"0xdead000000000007\"]",
            "\"registers\":{\"RIP\":\"0x0\"",
            "\"code\":null",
        ] {
            assert!(text.contains(field), "missing {field} in {text}");
        }
        let text = gpf_run(0, None, Format::Json);
        assert!(text.contains("\"bug_type\":\"null-ptr-deref\",\"access\":\"read\",\"size\":8,"));
        assert!(text.contains("\"qualifier\":null"));
        assert!(text.contains("\"registers\":null,\"code\":null"));
    }

    #[test]
    fn frame_objects_by_name_length() {
        let platform = FakePlatform::default();
        let mut buf = [0u8; 256];
        let mut out = Out::new(&platform, &mut buf);
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

    /// A platform whose console, on its first write, runs a hook: a bug raised in
    /// the middle of a report, as a signal handler would.
    struct Nesting {
        fake: FakePlatform,
        hook: std::sync::Mutex<Option<std::boxed::Box<dyn FnMut() + Send>>>,
        stacks: std::sync::atomic::AtomicUsize,
    }

    impl Platform for Nesting {
        fn task(&self) -> Task {
            self.fake.task()
        }
        fn cpu(&self) -> u32 {
            self.fake.cpu()
        }
        fn now_ns(&self) -> u64 {
            self.fake.now_ns()
        }
        fn write(&self, text: &[u8]) {
            self.fake.write(text);
            let hook = self.hook.lock().unwrap().take();
            if let Some(mut hook) = hook {
                hook();
            }
        }
        fn symbolize(&self, pc: usize, is_return: bool, f: &mut dyn FnMut(&Symbol<'_>)) {
            self.fake.symbolize(pc, is_return, f)
        }
        fn read_word(&self, addr: usize) -> Option<usize> {
            self.fake.read_word(addr)
        }
        fn halt(&self, message: &str) -> ! {
            self.fake.halt(message)
        }
        fn on_report_stack(&self, f: &mut dyn FnMut()) {
            self.stacks.fetch_add(1, Ordering::Relaxed);
            f()
        }
    }

    /// Reports one bug while `nested` more are raised during its report; returns the
    /// console text, the count, and how often the report stack was entered.
    fn nested_run(nested: usize, format: Format) -> (String, usize, usize) {
        let mem: &'static FakeMemory =
            std::boxed::Box::leak(std::boxed::Box::new(FakeMemory::new(256)));
        let shadow: &'static Shadow = std::boxed::Box::leak(std::boxed::Box::new(mem.shadow()));
        shadow.poison(mem.base(), 256, SLAB_REDZONE);
        let depot: &'static StackDepot =
            std::boxed::Box::leak(std::boxed::Box::new(StackDepot::new()));
        let heap: &'static Heap = std::boxed::Box::leak(std::boxed::Box::new(Heap {
            object: 0,
            freed: false,
            alloc: Handle::NONE,
            free: Handle::NONE,
        }));
        let mut config = Config::default();
        config.multi_shot = true;
        config.format = format;
        let config: &'static Config = std::boxed::Box::leak(std::boxed::Box::new(config));
        let platform: &'static Nesting = std::boxed::Box::leak(std::boxed::Box::new(Nesting {
            fake: FakePlatform::default(),
            hook: std::sync::Mutex::new(None),
            stacks: std::sync::atomic::AtomicUsize::new(0),
        }));
        let reporter: &'static Reporter =
            std::boxed::Box::leak(std::boxed::Box::new(Reporter::new()));
        let base = mem.base();
        let view: &'static Generic =
            std::boxed::Box::leak(std::boxed::Box::new(Generic { shadow: *shadow }));
        let ctx = move || Context {
            config,
            mode: view,
            generic: Some(shadow),
            platform,
            describe: heap,
            depot,
        };
        *platform.hook.lock().unwrap() = Some(std::boxed::Box::new(move || {
            for i in 0..nested {
                let bug = Bug {
                    kind: Kind::Access,
                    addr: base + 8 * (i + 1),
                    size: 8,
                    is_write: false,
                    trace: &[0x1044, 0x1188],
                };
                // Queued: printed after the report in progress.
                assert_eq!(reporter.report(&ctx(), &bug), i < QUEUE_LEN);
            }
        }));
        let bug = Bug {
            kind: Kind::Access,
            addr: base,
            size: 1,
            is_write: true,
            trace: &[0x1044],
        };
        assert!(reporter.report(&ctx(), &bug));
        (
            platform.fake.take(),
            reporter.count(),
            platform.stacks.load(Ordering::Relaxed),
        )
    }

    #[test]
    fn bugs_raised_during_a_report_are_printed_after_it() {
        let (text, count, stacks) = nested_run(3, Format::Text);
        assert_eq!(count, 4);
        assert_eq!(
            stacks, 1,
            "the report stack is entered once, never re-entered"
        );
        let headers: std::vec::Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("Read of") || l.starts_with("Write of"))
            .collect();
        assert_eq!(headers.len(), 4, "{text}");
        assert!(headers[0].starts_with("Write of size 1 at addr"), "{text}");
        for h in &headers[1..] {
            assert!(h.starts_with("Read of size 8 at addr"), "{text}");
        }
        assert_eq!(text.matches("Not tainted").count(), 1);
        assert_eq!(text.matches("Tainted: G    B").count(), 3);
        assert!(!text.contains("dropped"));
    }

    #[test]
    fn a_full_queue_says_how_many_were_dropped() {
        let (text, count, _) = nested_run(QUEUE_LEN + 3, Format::Text);
        assert_eq!(count, 1 + QUEUE_LEN);
        assert_eq!(text.matches("BUG: KASAN:").count(), 1 + QUEUE_LEN);
        assert_eq!(
            text.lines()
                .filter(|l| l.starts_with("kasan: "))
                .collect::<std::vec::Vec<_>>(),
            [
                "kasan: 3 nested reports dropped: raised while a report was printed, with 8 already waiting"
            ]
        );
        let (json, _, _) = nested_run(QUEUE_LEN + 1, Format::Json);
        assert_eq!(json.lines().count(), 1 + QUEUE_LEN + 1);
        assert!(json.lines().all(|l| l.starts_with('{') && l.ends_with('}')));
        assert!(json.contains("\"warning\":\"nested reports dropped\",\"dropped\":1,"));
    }

    /// A console that records each write.
    #[derive(Default)]
    struct Writes(std::sync::Mutex<std::vec::Vec<String>>);

    impl Platform for Writes {
        fn task(&self) -> Task {
            Task::new(1, b"t")
        }
        fn cpu(&self) -> u32 {
            0
        }
        fn now_ns(&self) -> u64 {
            0
        }
        fn write(&self, text: &[u8]) {
            self.0
                .lock()
                .unwrap()
                .push(String::from_utf8(text.to_vec()).unwrap());
        }
        fn symbolize(&self, _: usize, _: bool, _: &mut dyn FnMut(&Symbol<'_>)) {}
        fn read_word(&self, _: usize) -> Option<usize> {
            None
        }
        fn halt(&self, message: &str) -> ! {
            panic!("{message}")
        }
    }

    #[test]
    fn text_is_written_whole_or_in_whole_lines() {
        let platform = Writes::default();
        let mut buf = [0u8; 16];
        let mut out = Out::new(&platform, &mut buf);
        let _ = out.write_str("one\ntwo\n");
        out.flush();
        let _ = out.write_str("aaaaaa\nbbbbbb\ncccccc\n");
        out.flush();
        let _ = out.write_str("a line longer than the buffer\n");
        out.flush();
        let writes = platform.0.lock().unwrap().clone();
        assert_eq!(
            writes,
            [
                "one\ntwo\n",
                "aaaaaa\nbbbbbb\n",
                "cccccc\n",
                "a line longer th",
                "an the buffer\n"
            ]
        );
    }

    #[test]
    fn comm_control_bytes_do_not_split_lines() {
        assert_eq!(Task::new(3, b"a\nb\tc\x7f\0zz").comm(), "a?b?c?");
        assert_eq!(Task::new(3, b"caf\xc3\xa9").comm(), "caf\u{e9}");
        assert_eq!(Task::new(3, b"bad\xff\xc3").comm(), "bad??");
        assert_eq!(Json(Task::new(3, b"x\ny").comm()).to_string(), "\"x?y\"");
    }
}
