//! Who is running, where, and when, for a Linux process: thread ids (cached per
//! thread), `comm`, the CPU, a monotonic clock, and the current thread's stack
//! bounds, which keep the frame-pointer walk inside the stack.
#![allow(unsafe_code)]

use core::cell::Cell;

use kasan_core::platform::Task;
use kasan_core::stack::{UnwindCache, UnwindRule};

std::thread_local! {
    /// This thread's id; 0 until first asked (and after `fork`, see `forget_tid`).
    static TID: Cell<u32> = const { Cell::new(0) };
    /// The top of this thread's stack; 0 until first asked.
    static STACK_TOP: Cell<usize> = const { Cell::new(0) };
    /// The low end of this thread's stack mapping, once the runtime knows it
    /// ([`set_stack_low`]); 0 until then.
    static STACK_LOW: Cell<usize> = const { Cell::new(0) };
}

unsafe extern "C" {
    /// Set by the dynamic loader (or static start-up code) to the initial stack
    /// pointer of the main thread.
    static __libc_stack_end: *const libc::c_void;
}

/// The current thread id.
pub fn tid() -> u32 {
    TID.with(|t| {
        if t.get() == 0 {
            // SAFETY: gettid has no preconditions.
            t.set(unsafe { libc::gettid() } as u32);
        }
        t.get()
    })
}

/// Drops the cached thread id (in a child after `fork`, where it changed).
pub fn forget_tid() {
    TID.with(|t| t.set(0));
}

/// The current task: thread id and `comm` (`prctl(PR_GET_NAME)`).
pub fn current() -> Task {
    let mut comm = [0u8; 16];
    // SAFETY: PR_GET_NAME writes at most 16 bytes into the buffer.
    unsafe { libc::prctl(libc::PR_GET_NAME, comm.as_mut_ptr()) };
    Task::new(tid(), &comm)
}

unsafe extern "C" {
    /// glibc (2.35 on): the offset of the thread's `struct rseq` from the thread
    /// pointer, and its size (0 when glibc did not register one).
    static __rseq_offset: isize;
    static __rseq_size: u32;
}

/// The CPU this thread runs on: the kernel's `cpu_id` in the thread's rseq area
/// (glibc registers one per thread; one load, as glibc's own `sched_getcpu` does),
/// or `sched_getcpu` where there is none (rseq disabled by a tunable, or the
/// registration failed: `cpu_id` negative).
#[inline]
pub fn cpu() -> u32 {
    // SAFETY: both are plain data glibc sets before any user code runs.
    let (offset, size) = unsafe { (__rseq_offset, __rseq_size) };
    if size != 0 {
        let tp: usize;
        // SAFETY: %fs:0 holds the thread control block's self pointer on x86-64 glibc.
        unsafe {
            core::arch::asm!("mov {}, fs:0", out(reg) tp, options(nostack, readonly, preserves_flags))
        };
        // SAFETY: with a registered area, `tp + __rseq_offset` is this thread's
        // `struct rseq` (cpu_id_start: u32, then cpu_id: i32), which the kernel
        // updates on migration; a volatile read, as it changes under us.
        let id =
            unsafe { core::ptr::read_volatile((tp.wrapping_add_signed(offset) + 4) as *const i32) };
        if id >= 0 {
            return id as u32;
        }
    }
    // SAFETY: sched_getcpu has no preconditions.
    let c = unsafe { libc::sched_getcpu() };
    c.max(0) as u32
}

/// Monotonic nanoseconds.
pub fn now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// The current frame pointer.
#[inline(always)]
pub fn frame_pointer() -> usize {
    let fp: usize;
    // SAFETY: reads a register; the runtime is built with frame pointers forced on.
    // The clobber of r12 (callee-saved) makes the caller save it, so the read cannot be
    // placed before the caller's prologue sets up its frame (LLVM's shrink-wrapping
    // moved it there under LTO, and the trace then began one frame too high).
    unsafe {
        core::arch::asm!("mov {}, rbp", out(reg) fp, out("r12") _, options(nomem, nostack, preserves_flags))
    };
    fp
}

/// The address of the next instruction: a pc inside the function this is inlined
/// into.
#[inline(always)]
pub fn program_counter() -> usize {
    let pc: usize;
    // SAFETY: computes an address; reads no memory.
    unsafe {
        core::arch::asm!("lea {}, [rip]", out(reg) pc, options(nomem, nostack, preserves_flags))
    };
    pc
}

/// A pc inside the function whose frame is `fp`, an entry point of the runtime that
/// is a caller of the current function (or the current function itself): the
/// return address saved by the frame that `fp`'s function called, found by walking
/// the runtime's own frame chain from here (at most 32 frames, all of the current
/// thread's stack, between the stack pointer and `fp`). When `fp` is the current
/// frame, `here` (a pc of the caller's own) is that pc.
#[inline(always)]
pub fn entry_pc(fp: usize, here: usize) -> usize {
    let mut x = frame_pointer();
    if x == fp {
        return here;
    }
    let sp = stack_pointer();
    for _ in 0..32 {
        if x < sp || x >= fp || x & 7 != 0 {
            break;
        }
        // SAFETY: `x` is a frame of the runtime's own on the current thread's stack,
        // in [sp, fp): live, mapped and 8-aligned (checked above); the runtime is
        // built with frame pointers, so its frames hold (saved rbp, return address).
        let (next, ret) = unsafe { (*(x as *const usize), *((x + 8) as *const usize)) };
        if next == fp {
            return ret;
        }
        if next <= x {
            break;
        }
        x = next;
    }
    here
}

/// The current stack pointer.
#[inline(always)]
pub fn stack_pointer() -> usize {
    let sp: usize;
    // SAFETY: reads a register.
    unsafe {
        core::arch::asm!("mov {}, rsp", out(reg) sp, options(nomem, nostack, preserves_flags))
    };
    sp
}

/// The top (highest address) of the current thread's stack. The main thread's is the
/// loader's initial stack pointer; another thread's is its thread control block,
/// which glibc places right above the thread's stack.
pub fn stack_top() -> usize {
    STACK_TOP.with(|top| {
        if top.get() == 0 {
            // SAFETY: getpid has no preconditions.
            let main = tid() == unsafe { libc::getpid() } as u32;
            let value = if main {
                // SAFETY: the loader sets this before any user code runs.
                let end = unsafe { __libc_stack_end } as usize;
                // Arguments and environment sit above it: allow up to the page end.
                (end | 4095) + 1
            } else {
                let tcb: usize;
                // SAFETY: %fs:0 holds the thread control block's self pointer on x86-64 glibc.
                unsafe {
                    core::arch::asm!("mov {}, fs:0", out(reg) tcb, options(nostack, readonly, preserves_flags))
                };
                tcb
            };
            top.set(value);
        }
        top.get()
    })
}

/// Forgets the cached stack top (a child after `fork` keeps its parent's, which is
/// still right; threads reuse TLS only through the cache being empty at start).
pub fn forget_stack_top() {
    STACK_TOP.with(|t| t.set(0));
}

/// Records the low end of the current thread's stack: `[low, stack_top())` is one
/// mapping (the main thread's stack, down by its limit; a thread's stack from
/// glibc), so while the stack pointer is inside it, everything from the stack
/// pointer up to the top is mapped and [`save_stack`] reads it directly.
pub fn set_stack_low(low: usize) {
    STACK_LOW.with(|l| l.set(low));
}

/// Saves return addresses by walking frame pointers from frame `fp` (which must be
/// a frame of the current thread), skipping `skip` frames first.
#[inline(never)]
pub fn save_stack(fp: usize, skip: usize, out: &mut [usize]) -> usize {
    let thread_top = stack_top();
    let mut top = thread_top;
    let sp = stack_pointer();
    if fp < sp {
        return 0;
    }
    if fp >= top {
        // Not on the thread's stack: on a signal stack or a coroutine's stack of the
        // program's own, whose frames lie above `fp` (read page by page through the
        // kernel below, so the walk never faults), up to 1 MiB of them.
        top = fp.saturating_add(1 << 20);
    }
    // Each return address's frame is found by its unwind rule (`rule`): the
    // frame-pointer chain where the code keeps one, the CFA from the stack pointer
    // where it does not (glibc's `strdup`, `getline`, `fopen` calling `malloc`), so
    // the walk never scans the stack for return addresses.
    // The chain may leave the mapping `fp` is in: from a signal stack or the
    // report stack to the interrupted stack, from a coroutine's stack to the
    // thread's, or to garbage where a function without frame pointers used `rbp`.
    // When the stack pointer is on the thread's own stack, `[sp, stack top)` is
    // mapped (the live part of that stack) and read directly: no system call in the
    // common case, every allocation and free. Any other page is first read through
    // the kernel (which fails on unmapped memory), then directly.
    let low = STACK_LOW.with(Cell::get);
    let live = if low != 0 && sp >= low && sp < thread_top {
        (sp, thread_top)
    } else {
        (0, 0)
    };
    let mut pages = Pages::new(fp, live);
    // The walk stops at the signal trampoline (see `cut_at_restorer`), which it
    // stored last: that frame is dropped.
    let restorer = crate::own::restorer();
    let mut at_restorer = false;
    let n = kasan_core::stack::walk_unwind(
        fp,
        top,
        skip,
        out,
        |a| pages.read(a),
        |pc| pc != restorer && UNWIND.keeps_frame_pointer(pc),
        |pc| {
            if pc == restorer {
                at_restorer = true;
                return UnwindRule::Stop;
            }
            rule(pc)
        },
    );
    if at_restorer && n > 0 && out[n - 1] == restorer {
        n - 1
    } else {
        n
    }
}

/// Unwind rules by return address, for every thread: filled on first sight of each
/// return address from the unwind tables, one load after that.
static UNWIND: UnwindCache = UnwindCache::new();

/// Stack the rule lookup may use (gimli's context on the stack, the loader's
/// iteration): it is only done where this much is known to be left.
const RULE_STACK_ROOM: usize = 24 << 10;

/// The unwind rule of a return address: the cache's, or read from the unwind tables
/// (and cached) where the stack has room for that; else the frame-pointer rule, the
/// walk's behaviour without tables (on a small signal stack or thread stack, or one
/// of unknown bounds, a frame without a frame pointer then ends the walk or, where
/// its rbp is the caller's, skips one frame).
#[inline(always)]
fn rule(pc: usize) -> UnwindRule {
    match UNWIND.get(pc) {
        Some(r) => r,
        None => rule_missed(pc),
    }
}

/// [`rule`] for a return address not in the cache (or whose slot another took).
#[cold]
#[inline(never)]
fn rule_missed(pc: usize) -> UnwindRule {
    if stack_room() < RULE_STACK_ROOM {
        return UnwindRule::FramePointer;
    }
    // Tables that could not be read give the frame-pointer rule, cached too: a miss
    // costs the loader's iteration and a table search, far more than a walk.
    let r = looked_up(pc).unwrap_or(UnwindRule::FramePointer);
    UNWIND.insert(pc, r);
    r
}

/// [`crate::cfi::rule_for`] in a frame of its own, so that its context takes stack
/// only where the room was checked.
#[inline(never)]
fn looked_up(pc: usize) -> Option<UnwindRule> {
    crate::cfi::rule_for(pc)
}

/// How many of `frames` come before the signal trampoline: a signal handler's stack
/// ends where the kernel called it; beyond is the code it interrupted (perhaps the
/// runtime itself, in the middle of an allocation), not the handler's callers.
fn cut_at_restorer(frames: &[usize]) -> usize {
    let restorer = crate::own::restorer();
    if restorer != 0 {
        if let Some(i) = frames.iter().position(|&pc| pc == restorer) {
            return i;
        }
    }
    frames.len()
}

/// Stack the CFI walk may use below the caller's frame: it runs on the stack of the
/// code that hit the bug (the report stack belongs to the report lock's holder), and
/// only where that much is known to be left.
const CFI_STACK_ROOM: usize = 64 << 10;

/// Bytes of stack known to be left below the stack pointer: on the thread's own stack
/// down to its recorded low end, on the current signal stack down to its base; 0 when
/// neither is known.
fn stack_room() -> usize {
    let sp = stack_pointer();
    let low = STACK_LOW.with(Cell::get);
    if low != 0 && sp >= low && sp < stack_top() {
        return sp - low;
    }
    let mut alt = libc::stack_t {
        ss_sp: core::ptr::null_mut(),
        ss_flags: 0,
        ss_size: 0,
    };
    // SAFETY: sigaltstack with a null new stack only reads the current one.
    let ok = unsafe { libc::sigaltstack(core::ptr::null(), &mut alt) } == 0;
    let base = alt.ss_sp as usize;
    if ok && alt.ss_flags & libc::SS_ONSTACK != 0 && sp >= base && sp < base + alt.ss_size {
        return sp - base;
    }
    0
}

/// A report's call trace: [`save_stack`]'s frame-pointer walk, then the CFI walk of
/// [`crate::cfi`] from the same frame; the CFI trace replaces the plain one when it
/// starts with the same frame and is at least as long (it goes on through code built
/// without frame pointers, where the plain walk stops or reads garbage). The CFI walk
/// needs a few KiB of stack: it is skipped where less than [`CFI_STACK_ROOM`] is known
/// to be left (a small signal stack or thread stack, a stack of unknown bounds). Cut at the signal
/// trampoline, as [`save_stack`] is.
pub fn save_stack_unwound(fp: usize, out: &mut [usize]) -> usize {
    let n = save_stack(fp, 0, out);
    if n == 0 || out.len() < 2 {
        return n;
    }
    if stack_room() < CFI_STACK_ROOM {
        return n;
    }
    unwound(fp, out, n)
}

/// The CFI half of [`save_stack_unwound`], a frame of its own so that its buffer
/// takes stack only where the room was checked.
#[inline(never)]
fn unwound(fp: usize, out: &mut [usize], n: usize) -> usize {
    let mut alt = [0usize; 64];
    let len = out.len().min(alt.len());
    let walked = crate::cfi::walk(fp, &mut alt[..len]);
    let m = cut_at_restorer(&alt[..walked]);
    if m >= n && alt[0] == out[0] {
        out[..m].copy_from_slice(&alt[..m]);
        return m;
    }
    n
}

/// Reads words of a stack: directly inside the live part of the thread's own stack,
/// elsewhere checking each page once through the kernel.
struct Pages {
    known: usize,
    /// `[sp, top)` of the thread's own stack when `sp` is on it, else empty.
    live: (usize, usize),
}

impl Pages {
    /// `fp`'s page is mapped: it holds a live frame.
    fn new(fp: usize, live: (usize, usize)) -> Pages {
        Pages {
            known: fp >> 12,
            live,
        }
    }

    #[inline(always)]
    fn read(&mut self, a: usize) -> Option<usize> {
        if a & 7 != 0 {
            return None;
        }
        if a.wrapping_sub(self.live.0) < self.live.1 - self.live.0 {
            // SAFETY: an aligned word between the stack pointer and the top of the
            // thread's own stack mapping (`set_stack_low`): mapped, as the live part
            // of the stack always is. `top` is page-aligned or the thread control
            // block's start, so the word ends at or below it.
            return Some(unsafe { *(a as *const usize) });
        }
        self.read_outside(a)
    }

    /// [`Pages::read`] of a word outside the live part of the thread's stack.
    #[cold]
    #[inline(never)]
    fn read_outside(&mut self, a: usize) -> Option<usize> {
        if a >> 12 != self.known {
            let word = crate::memory::read_word(a)?;
            self.known = a >> 12;
            return Some(word);
        }
        // SAFETY: an aligned word in a page known to be mapped (a live frame's, or
        // one the kernel just read for us); stack pages are not unmapped under us.
        Some(unsafe { *(a as *const usize) })
    }
}

/// The machine's description for the `Hardware name:` line, read once.
static HARDWARE: std::sync::OnceLock<([u8; 256], usize)> = std::sync::OnceLock::new();

/// Reads one DMI attribute (`/sys/class/dmi/id/<name>`, NUL-terminated path) into
/// `out`, its trailing newline dropped; the bytes read.
fn read_dmi(path: &core::ffi::CStr, out: &mut [u8]) -> usize {
    // SAFETY: `path` is NUL-terminated; the descriptor is closed below.
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return 0;
    }
    // SAFETY: reads at most `out.len()` bytes into `out`.
    let n = unsafe { libc::read(fd, out.as_mut_ptr().cast(), out.len()) };
    // SAFETY: `fd` is ours.
    unsafe { libc::close(fd) };
    let mut n = n.max(0) as usize;
    while n > 0 && (out[n - 1] == b'\n' || out[n - 1] == b' ') {
        n -= 1;
    }
    n
}

/// Linux's `Hardware name:` text on x86 (`dmi_format_product` in
/// drivers/firmware/dmi_scan.c): `<sys_vendor> <product_name>/<board_name>, BIOS
/// <bios_version> <bios_date>`, from `/sys/class/dmi/id` (readable by every user).
/// Without DMI (or with it unreadable) the line says so instead of inventing a
/// machine. Read on first use with system calls only (no allocation), so a report
/// may be the first user.
pub fn hardware_name() -> Option<&'static str> {
    let (buf, len) = HARDWARE.get_or_init(|| {
        let mut buf = [0u8; 256];
        let mut len = 0;
        let parts: [(&core::ffi::CStr, &[u8]); 5] = [
            (c"/sys/class/dmi/id/sys_vendor", b""),
            (c"/sys/class/dmi/id/product_name", b" "),
            (c"/sys/class/dmi/id/board_name", b"/"),
            (c"/sys/class/dmi/id/bios_version", b", BIOS "),
            (c"/sys/class/dmi/id/bios_date", b" "),
        ];
        let mut found = 0;
        for (path, sep) in parts {
            let mut field = [0u8; 80];
            let n = read_dmi(path, &mut field);
            if n == 0 && sep == b"/" {
                continue;
            }
            found += usize::from(n > 0);
            for &b in sep.iter().chain(&field[..n]) {
                if len < buf.len() {
                    // Linux's print_filtered: non-printable bytes are escaped; a `?`
                    // keeps the line whole here.
                    buf[len] = if b.is_ascii_graphic() || b == b' ' {
                        b
                    } else {
                        b'?'
                    };
                    len += 1;
                }
            }
        }
        if found == 0 {
            let text = b"Unknown (no DMI information readable)";
            buf[..text.len()].copy_from_slice(text);
            len = text.len();
        }
        (buf, len)
    });
    core::str::from_utf8(&buf[..*len]).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rseq read names the CPU the kernel says, on each CPU the thread is moved to.
    #[test]
    fn cpu_is_the_kernels() {
        let n = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(8);
        std::thread::spawn(move || {
            for c in 0..n {
                // SAFETY: a zeroed cpu_set_t with one bit set, for this thread only.
                let pinned = unsafe {
                    let mut set: libc::cpu_set_t = core::mem::zeroed();
                    libc::CPU_SET(c, &mut set);
                    libc::sched_setaffinity(0, core::mem::size_of_val(&set), &set) == 0
                };
                if !pinned {
                    continue; // not allowed on that CPU (a restricted cpuset)
                }
                // SAFETY: no preconditions.
                let kernel = unsafe { libc::sched_getcpu() };
                assert_eq!(kernel, c as i32);
                assert_eq!(cpu(), c as u32);
            }
        })
        .join()
        .unwrap();
    }

    #[inline(never)]
    fn leaf(out: &mut [usize]) -> usize {
        save_stack(frame_pointer(), 0, out)
    }

    #[inline(never)]
    fn middle(out: &mut [usize]) -> usize {
        let n = leaf(out);
        core::hint::black_box(n)
    }

    #[inline(never)]
    fn outer(out: &mut [usize]) -> usize {
        let n = middle(out);
        core::hint::black_box(n)
    }

    #[test]
    fn frame_walk_names_the_callers() {
        let mut out = [0usize; 16];
        let n = outer(&mut out);
        assert!(n >= 2, "walked {n} frames");
        let mut names = Vec::new();
        for &pc in &out[..2] {
            crate::symbolize::symbolize(pc, true, &mut |s| names.push(s.name.to_string()));
        }
        assert!(names[0].ends_with("task::tests::middle"), "{names:?}");
        assert!(names[1].ends_with("task::tests::outer"), "{names:?}");
        // Skipping drops the innermost frames.
        let mut skipped = [0usize; 16];
        let m = save_stack(frame_pointer(), 1, &mut skipped);
        assert!(m >= 1);
    }

    /// Walks from one call site, with or without the live-stack bounds set.
    #[inline(never)]
    fn walk(live: bool) -> ([usize; 16], usize) {
        // The live part of this thread's stack, from here up to its top, is mapped.
        set_stack_low(if live { stack_pointer() & !4095 } else { 0 });
        let mut out = [0usize; 16];
        let n = outer(&mut out);
        set_stack_low(0);
        (out, n)
    }

    #[test]
    fn live_stack_walk_matches_the_checked_walk() {
        let (checked, n) = walk(false);
        let (live, m) = walk(true);
        assert!(n >= 4, "walked {n} frames");
        assert_eq!(n, m);
        // The same frames; only the return address into this function (the two
        // call sites of `walk`) differs.
        assert_eq!(checked[..3], live[..3]);
        assert_ne!(checked[3], live[3]);
        assert_eq!(checked[4..n], live[4..m]);
    }

    #[test]
    fn tid_and_comm_are_this_threads() {
        let main_tid = tid();
        let other = std::thread::spawn(tid).join().unwrap();
        assert_ne!(main_tid, other);
        // SAFETY: gettid has no preconditions.
        assert_eq!(main_tid, unsafe { libc::gettid() } as u32);
        assert!(!current().comm().is_empty());
        assert!(stack_top() > stack_pointer());
    }
}
