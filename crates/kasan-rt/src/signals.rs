//! `SIGSEGV` and `SIGBUS`: the fault handler and the alternate signal stacks it
//! runs on.
//!
//! ```text
//! signal ── si_code <= 0 (kill, raise, tgkill, sigqueue) ──> the program's own
//!   │          disposition, as without us: its handler, ignored, or death by the
//!   │          default action (re-raised with SIG_DFL); ours stays installed
//!   ├─ inline code's shadow load faulted (no shadow) ─> KASAN report, then as below
//!   ├─ a handler the program installed before us ─────> called (chained)
//!   └─ anything else: one line (SEGV on unknown address / stack-overflow / bus
//!        error, the address, pc, access), the call trace, then death by the
//!        original signal (queued again with its siginfo and SIG_DFL in place)
//! ```
//!
//! A program that installs its own handler after start-up simply replaces ours.
//!
//! Every thread gets a 256 KiB alternate signal stack (the main thread at start-up,
//! the others in [`crate::threads`]), so a stack overflow can still be reported; a
//! thread that already has one (the program's) keeps it. The handler takes no lock
//! the interrupted code may hold and allocates nothing itself: it formats into a
//! buffer on the signal stack and writes it once; stacks are read with
//! `process_vm_readv`, so a broken chain cannot fault again. (Symbolizing the
//! frames is the one part that shares the report path's caches.) On a signal stack
//! with less than 64 KiB left (a program's own, which may have no guard page), only
//! the line is printed, without names or trace, so the handler never runs off it.
#![allow(unsafe_code)]

use core::cell::UnsafeCell;
use core::ffi::{c_int, c_void};
use core::fmt::Write;
use core::mem::MaybeUninit;

use kasan_core::platform::{Platform, Symbol};
use kasan_core::report::{Gpf, Registers};
use kasan_hosted::memory::{self, SHADOW};
use kasan_hosted::{output, task, HostedPlatform};

use crate::runtime::{context, ready, REPORTER};

/// The actions that were installed for SIGSEGV and SIGBUS before ours.
struct OldActions(UnsafeCell<[MaybeUninit<libc::sigaction>; 2]>);

// SAFETY: written once in `install` during start-up, before the handler that reads
// it can run; only read afterwards.
unsafe impl Sync for OldActions {}

static OLD_ACTIONS: OldActions = OldActions(UnsafeCell::new([MaybeUninit::zeroed(); 2]));

/// The size of the alternate signal stacks we map (plus a guard page below).
const ALTSTACK_SIZE: usize = 256 << 10;
const PAGE: usize = 4096;

/// Installs the fault handler for SIGSEGV and SIGBUS, keeping the previous actions.
pub fn install() {
    for (i, sig) in [libc::SIGSEGV, libc::SIGBUS].into_iter().enumerate() {
        // SAFETY: a zeroed sigaction is a valid "default" action to start from; the
        // handler has the SA_SIGINFO signature; OLD_ACTIONS slot `i` is ours to fill.
        unsafe {
            let mut action: libc::sigaction = core::mem::zeroed();
            action.sa_sigaction = on_fault as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut action.sa_mask);
            let old = (*OLD_ACTIONS.0.get())[i].as_mut_ptr();
            libc::sigaction(sig, &action, old);
        }
    }
}

/// Gives the current thread an alternate signal stack unless it has one; returns the
/// base of the mapping made (0 if none), for [`release_altstack`].
pub fn install_altstack() -> usize {
    // SAFETY: sigaltstack with a null new stack only reads the current one.
    unsafe {
        let mut current: libc::stack_t = core::mem::zeroed();
        if libc::sigaltstack(core::ptr::null(), &mut current) != 0
            || current.ss_flags & libc::SS_DISABLE == 0
        {
            return 0;
        }
    }
    let Some(base) = memory::map_anonymous(ALTSTACK_SIZE + PAGE) else {
        return 0;
    };
    // The mapping may reuse addresses whose shadow holds old poison: the handlers
    // that run here are instrumented code.
    kasan_hosted::memory::clear_shadow(base + PAGE, base + PAGE + ALTSTACK_SIZE);
    let stack = libc::stack_t {
        ss_sp: (base + PAGE) as *mut c_void,
        ss_flags: 0,
        ss_size: ALTSTACK_SIZE,
    };
    // SAFETY: the guard page is part of our fresh mapping; the stack above it is
    // ours until `release_altstack`.
    unsafe {
        libc::mprotect(base as *mut c_void, PAGE, libc::PROT_NONE);
        if libc::sigaltstack(&stack, core::ptr::null_mut()) != 0 {
            kasan_hosted::sys::munmap(base as *mut c_void, ALTSTACK_SIZE + PAGE);
            return 0;
        }
    }
    base
}

/// At thread exit: takes down the signal stack mapped at `base` (if it is still
/// this thread's; the program may have replaced it) and clears its shadow.
pub fn release_altstack(base: usize) {
    if base == 0 {
        return;
    }
    // SAFETY: reads the current signal stack; disables it only if it is ours and
    // we are not running on it (a thread-exit destructor runs on the thread stack);
    // the mapping is ours and nothing refers to it once disabled.
    unsafe {
        let mut current: libc::stack_t = core::mem::zeroed();
        libc::sigaltstack(core::ptr::null(), &mut current);
        if current.ss_sp as usize == base + PAGE && current.ss_flags & libc::SS_ONSTACK == 0 {
            let off = libc::stack_t {
                ss_sp: core::ptr::null_mut(),
                ss_flags: libc::SS_DISABLE,
                ss_size: 0,
            };
            libc::sigaltstack(&off, core::ptr::null_mut());
        } else if current.ss_sp as usize == base + PAGE {
            return;
        }
        kasan_hosted::memory::clear_shadow(base + PAGE, base + PAGE + ALTSTACK_SIZE);
        kasan_hosted::sys::munmap(base as *mut c_void, ALTSTACK_SIZE + PAGE);
    }
}

/// The action that was installed before ours for `sig`.
fn old_action(sig: c_int) -> &'static libc::sigaction {
    let i = usize::from(sig == libc::SIGBUS);
    // SAFETY: slot `i` was filled by `install` before this handler was installed
    // and is never written again.
    unsafe { (*OLD_ACTIONS.0.get())[i].assume_init_ref() }
}

/// Restores the default action for `sig`.
fn set_default(sig: c_int) {
    // SAFETY: a zeroed sigaction with SIG_DFL is the default action.
    unsafe {
        let mut action: libc::sigaction = core::mem::zeroed();
        action.sa_sigaction = libc::SIG_DFL;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(sig, &action, core::ptr::null_mut());
    }
}

/// Calls the program's handler `old` as the kernel would have: its mask added, its
/// signature, one-shot if it asked for `SA_RESETHAND`.
fn call_handler(old: &libc::sigaction, sig: c_int, info: *mut libc::siginfo_t, uc: *mut c_void) {
    if old.sa_flags & libc::SA_RESETHAND != 0 {
        set_default(sig);
    }
    // SAFETY: `old` is a handler the program installed (neither SIG_DFL nor
    // SIG_IGN), of the signature its SA_SIGINFO flag says; the mask calls only
    // change this thread's signal mask and put it back.
    unsafe {
        let mut saved: libc::sigset_t = core::mem::zeroed();
        libc::pthread_sigmask(libc::SIG_BLOCK, &old.sa_mask, &mut saved);
        if old.sa_flags & libc::SA_SIGINFO != 0 {
            let f: extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void) =
                core::mem::transmute(old.sa_sigaction);
            f(sig, info, uc);
        } else {
            let f: extern "C" fn(c_int) = core::mem::transmute(old.sa_sigaction);
            f(sig);
        }
        libc::pthread_sigmask(libc::SIG_SETMASK, &saved, core::ptr::null_mut());
    }
}

/// A signal some process sent (`kill`, `raise`, ...): what would have happened
/// without us.
fn forward_sent(sig: c_int, info: *mut libc::siginfo_t, uc: *mut c_void) {
    let old = old_action(sig);
    match old.sa_sigaction {
        libc::SIG_IGN => {}
        libc::SIG_DFL => die(sig, info),
        _ => call_handler(old, sig, info, uc),
    }
}

/// Dies of `sig` by its default action (terminate, core dump), with the same
/// `siginfo`: the signal is queued again to this thread with SIG_DFL in place and
/// let in. (Returning to re-run a faulting access is not enough: the memory may
/// have been mapped meanwhile, e.g. by the symbolizer.)
fn die(sig: c_int, info: *mut libc::siginfo_t) {
    set_default(sig);
    // SAFETY: plain system calls on this thread's own signal state; `info` is the
    // kernel's siginfo for this signal (a process may queue any si_code to itself).
    unsafe {
        let (pid, tid) = (libc::getpid(), libc::gettid());
        if libc::syscall(libc::SYS_rt_tgsigqueueinfo, pid, tid, sig, info) != 0 {
            libc::syscall(libc::SYS_tgkill, pid, tid, sig);
        }
        let mut set: libc::sigset_t = core::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, sig);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, core::ptr::null_mut());
    }
}

/// A real fault (`si_code > 0`) we do not handle ourselves: chained to the
/// program's earlier handler if it had one (returns true), else false.
fn chain_fault(sig: c_int, info: *mut libc::siginfo_t, uc: *mut c_void) -> bool {
    let old = old_action(sig);
    if old.sa_sigaction == libc::SIG_DFL || old.sa_sigaction == libc::SIG_IGN {
        return false;
    }
    call_handler(old, sig, info, uc);
    true
}

/// The fault handler (see the module doc).
extern "C" fn on_fault(sig: c_int, info: *mut libc::siginfo_t, ucontext: *mut c_void) {
    // SAFETY: __errno_location is this thread's errno; it is put back before
    // returning to the interrupted code.
    let errno = unsafe { *libc::__errno_location() };
    handle(sig, info, ucontext);
    // SAFETY: as above.
    unsafe { *libc::__errno_location() = errno };
}

fn handle(sig: c_int, info: *mut libc::siginfo_t, ucontext: *mut c_void) {
    // SAFETY: the kernel passes a valid siginfo_t and ucontext_t to SA_SIGINFO
    // handlers.
    let (code, gregs) = unsafe {
        (
            (*info).si_code,
            &(*(ucontext as *const libc::ucontext_t)).uc_mcontext.gregs,
        )
    };
    if code <= 0 {
        forward_sent(sig, info, ucontext);
        return;
    }
    // The common paths (a signal sent, a fault the program handles) stay small:
    // they may run on a program's own small signal stack.
    let pc = gregs[libc::REG_RIP as usize] as usize;
    let mut code_bytes = [0u8; 16];
    for (i, chunk) in code_bytes.chunks_mut(8).enumerate() {
        if let Some(word) = memory::read_word(pc + 8 * i) {
            chunk.copy_from_slice(&word.to_le_bytes());
        }
    }
    let greg = |r: usize| gregs[kasan_hosted::fault::GREG_INDEX[r]] as usize;
    if sig == libc::SIGSEGV {
        if let Some(shadow_addr) = kasan_hosted::fault::shadow_operand(&code_bytes, greg) {
            if ready() && !SHADOW.has_metadata(SHADOW.shadow_to_mem(shadow_addr)) {
                report_shadow_fault(shadow_addr, gregs);
                if !chain_fault(sig, info, ucontext) {
                    die(sig, info);
                }
                return;
            }
        }
    }
    if chain_fault(sig, info, ucontext) {
        return;
    }
    if stack_room() >= PRINT_STACK {
        print_fault(sig, info, gregs);
    } else {
        print_fault_short(sig, info, gregs);
    }
    die(sig, info);
}

/// The stack the full fault message may need: its buffer and the symbolizer.
const PRINT_STACK: usize = 64 << 10;

/// How much stack is left below the current stack pointer: on a signal stack, down
/// to its base (a program's own may be small, and may have no guard page below);
/// on the thread's stack, down to its known low end.
fn stack_room() -> usize {
    let sp = task::stack_pointer();
    // SAFETY: sigaltstack with a null new stack only reads the current one.
    let mut current: libc::stack_t = unsafe { core::mem::zeroed() };
    // SAFETY: as above.
    if unsafe { libc::sigaltstack(core::ptr::null(), &mut current) } == 0
        && current.ss_flags & libc::SS_ONSTACK != 0
    {
        return sp.saturating_sub(current.ss_sp as usize);
    }
    match crate::threads::known_stack_bounds() {
        (low, high) if high != 0 && sp > low => sp - low,
        _ => usize::MAX,
    }
}

/// The fault line alone, without names or call trace, for a handler running on a
/// stack too small for the symbolizer (a program's own small signal stack).
#[cold]
#[inline(never)]
fn print_fault_short(sig: c_int, info: *mut libc::siginfo_t, gregs: &[libc::greg_t; 23]) {
    let mut out = ShortBuf {
        buf: [0; 256],
        len: 0,
    };
    // SAFETY: the kernel's siginfo for this signal.
    let addr = unsafe { (*info).si_addr() } as usize;
    let what = if sig == libc::SIGBUS {
        "bus error"
    } else {
        "SEGV"
    };
    let _ = writeln!(
        out,
        "kasan: {what} on address {addr:016x} (pc {:016x}) by task {}: signal stack too small for the call trace",
        gregs[libc::REG_RIP as usize] as usize,
        task::tid()
    );
    output::write_message::<768>(&out.buf[..out.len]);
}

/// A small fixed buffer; what does not fit is cut.
struct ShortBuf {
    buf: [u8; 256],
    len: usize,
}

impl Write for ShortBuf {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let n = s.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

/// The interrupted code's call trace: its pc, then the frame-pointer chain.
fn trace(gregs: &[libc::greg_t; 23], out: &mut [usize; 64]) -> usize {
    let reg = |r: libc::c_int| gregs[r as usize] as usize;
    out[0] = reg(libc::REG_RIP);
    1 + walk(reg(libc::REG_RBP), reg(libc::REG_RSP), &mut out[1..])
}

/// The registers of the interrupted code, in the order Linux prints them.
fn registers(gregs: &[libc::greg_t; 23]) -> Registers {
    let reg = |r: libc::c_int| gregs[r as usize] as usize;
    Registers {
        ip: reg(libc::REG_RIP),
        sp: reg(libc::REG_RSP),
        flags: reg(libc::REG_EFL),
        error_code: reg(libc::REG_ERR),
        gp: [
            reg(libc::REG_RAX),
            reg(libc::REG_RBX),
            reg(libc::REG_RCX),
            reg(libc::REG_RDX),
            reg(libc::REG_RSI),
            reg(libc::REG_RDI),
            reg(libc::REG_RBP),
            reg(libc::REG_R8),
            reg(libc::REG_R9),
            reg(libc::REG_R10),
            reg(libc::REG_R11),
            reg(libc::REG_R12),
            reg(libc::REG_R13),
            reg(libc::REG_R14),
            reg(libc::REG_R15),
        ],
    }
}

/// An inline shadow load faulted on an address without shadow: Linux's general
/// protection fault report, with the registers of the fault.
#[cold]
#[inline(never)]
fn report_shadow_fault(shadow_addr: usize, gregs: &[libc::greg_t; 23]) {
    let mut frames = [0usize; 64];
    let n = trace(gregs, &mut frames);
    let fault = Gpf {
        shadow_addr,
        addr: SHADOW.shadow_to_mem(shadow_addr),
        access: None,
        regs: Some(registers(gregs)),
    };
    REPORTER.report_shadow_fault(&context(), &fault, &frames[..n]);
}

/// After a general protection fault reported without a signal (an inline check
/// of the NULL page, which calls the runtime where Linux's faults): the task dies
/// there, as Linux's does, by SIGSEGV. A program that handles SIGSEGV itself
/// (before us, or instead of us) is left to its handler: the access is then let
/// fault for real and reaches it.
pub fn die_after_fault_report() {
    // SAFETY: sigaction with a null new action only reads the current one.
    let current = unsafe {
        let mut current: libc::sigaction = core::mem::zeroed();
        libc::sigaction(libc::SIGSEGV, core::ptr::null(), &mut current);
        current.sa_sigaction
    };
    let handler = if current == on_fault as *const () as usize {
        old_action(libc::SIGSEGV).sa_sigaction
    } else {
        current
    };
    if handler != libc::SIG_DFL && handler != libc::SIG_IGN {
        return;
    }
    // SAFETY: a zeroed siginfo is valid; we fill in what a general protection
    // fault delivers (si_code SI_KERNEL, no address).
    let mut info: libc::siginfo_t = unsafe { core::mem::zeroed() };
    info.si_signo = libc::SIGSEGV;
    info.si_code = SI_KERNEL;
    die(libc::SIGSEGV, &mut info);
}

/// The one line and the call trace of a fault that is no KASAN bug.
#[cold]
#[inline(never)]
fn print_fault(sig: c_int, info: *mut libc::siginfo_t, gregs: &[libc::greg_t; 23]) {
    let reg = |r: libc::c_int| gregs[r as usize] as usize;
    let mut frames = [0usize; 64];
    let n = trace(gregs, &mut frames);
    let fault = Fault {
        sig,
        // SAFETY: the kernel's siginfo for this signal.
        code: unsafe { (*info).si_code },
        // SAFETY: as above; SIGSEGV and SIGBUS carry a fault address.
        addr: unsafe { (*info).si_addr() } as usize,
        pc: reg(libc::REG_RIP),
        sp: reg(libc::REG_RSP),
        trapno: reg(libc::REG_TRAPNO),
        err: reg(libc::REG_ERR),
    };
    let mut out = Buf {
        buf: [0; 8192],
        len: 0,
    };
    fault.describe(&mut out, &frames[..n]);
    output::write_message::<16384>(&out.buf[..out.len]);
}

/// Walks the interrupted thread's frame pointers from `fp`, reading through the
/// kernel (a chain may point anywhere), within `[sp, sp + 1 GiB)`.
fn walk(fp: usize, sp: usize, out: &mut [usize]) -> usize {
    let top = task::stack_top();
    let end = if sp < top && top - sp < (1 << 30) {
        top
    } else {
        sp.saturating_add(1 << 30)
    };
    if fp < sp {
        return 0;
    }
    kasan_core::stack::walk_frames(fp, end, 0, out, memory::read_word)
}

/// What the kernel told us about a fault.
struct Fault {
    sig: c_int,
    code: c_int,
    addr: usize,
    pc: usize,
    sp: usize,
    trapno: usize,
    err: usize,
}

/// x86 exception numbers and page-fault error code bits.
const TRAP_PAGE_FAULT: usize = 14;
const PF_WRITE: usize = 1 << 1;
const PF_INSTR: usize = 1 << 4;
/// SEGV_ACCERR: the page is mapped, the access not permitted.
const SEGV_ACCERR: c_int = 2;
/// SI_KERNEL: a general protection fault (non-canonical address), no address known.
const SI_KERNEL: c_int = 0x80;

impl Fault {
    /// Whether this looks like a stack overflow: a page fault on the current
    /// thread's stack at or below the stack pointer (the guard page, or past it for
    /// a frame bigger than a page).
    fn is_stack_overflow(&self) -> bool {
        let (low, high) = crate::threads::known_stack_bounds();
        let near_sp =
            self.addr < task::stack_top() && self.addr.saturating_add(64 << 10) >= self.sp;
        let near_low =
            low != 0 && self.addr < low && low - self.addr <= (1 << 20) && self.sp < high;
        self.sig == libc::SIGSEGV && self.trapno == TRAP_PAGE_FAULT && (near_sp || near_low)
    }

    fn describe(&self, out: &mut Buf, frames: &[usize]) {
        let _ = out.write_str("kasan: ");
        if self.is_stack_overflow() {
            let _ = write!(out, "stack-overflow on address {:016x}", self.addr);
        } else if self.sig == libc::SIGBUS {
            let _ = write!(out, "bus error on address {:016x}", self.addr);
        } else if let Some(vaddr) = kasan_hosted::shadow_map::unpopulated_vmalloc_shadow(self.addr)
        {
            // A check of vmalloc memory whose shadow is not populated: an area freed
            // and purged, or vmalloc space nobody allocated (a kernel takes a page
            // fault there too).
            let _ = write!(
                out,
                "SEGV on unpopulated vmalloc shadow {:016x} (vmalloc address {:016x}: freed and purged, or never allocated)",
                self.addr, vaddr
            );
        } else if self.code == SI_KERNEL {
            let _ = out.write_str("SEGV on unknown address (general protection fault)");
        } else if self.code == SEGV_ACCERR {
            let _ = write!(out, "SEGV on address {:016x} (not permitted)", self.addr);
        } else {
            let _ = write!(out, "SEGV on unknown address {:016x}", self.addr);
        }
        let _ = write!(out, " (pc {:016x} ", self.pc);
        symbol(out, self.pc);
        if self.trapno == TRAP_PAGE_FAULT {
            let access = if self.err & PF_INSTR != 0 {
                "instruction fetch"
            } else if self.err & PF_WRITE != 0 {
                "write"
            } else {
                "read"
            };
            let _ = write!(out, ", {access} access");
        }
        let task = task::current();
        let _ = writeln!(out, ") by task {}/{}", task.comm(), task.pid);
        let _ = out.write_str("Call Trace:\n <TASK>\n");
        for (i, &pc) in frames.iter().enumerate() {
            kasan_core::report::write_trace_line(out, &HostedPlatform, pc, i > 0);
        }
        let _ = out.write_str(" </TASK>\n");
    }
}

/// `func+0xoff/0xsize` of `pc` (or the bare address).
fn symbol(out: &mut Buf, pc: usize) {
    let mut found = false;
    HostedPlatform.symbolize(pc, false, &mut |s: &Symbol<'_>| {
        found = true;
        let _ = write!(out, "{}+{:#x}/{:#x}", s.name, s.offset, s.size);
    });
    if !found {
        let _ = write!(out, "{pc:#x}");
    }
}

/// A fixed buffer on the signal stack; what does not fit is cut.
struct Buf {
    buf: [u8; 8192],
    len: usize,
}

impl Write for Buf {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let n = s.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}
