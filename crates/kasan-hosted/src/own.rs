//! The runtime's own activations on a thread: the report stack, and the frames that
//! mark code as the runtime's, so that its own memory operations are never checked
//! as the program's.
//!
//! **Report stack.** A report classifies, describes, symbolizes and renders on a
//! stack the runtime maps once ([`REPORT_STACK`] bytes above a guard page), not on
//! the stack of the code that hit the bug (a coroutine's 16 KiB, an 8 KiB signal
//! stack). The core calls it with the report lock held and never re-enters it (bugs
//! raised during a report are queued), so one stack serves every thread.
//!
//! **Own frames.** The runtime's Rust code calls `memcpy`/`memset`/`memmove`, which
//! resolve to the library's checked exports. On a stack the program left poisoned
//! (a cancelled thread's, a region it poisoned itself), those checks would fail on
//! the runtime's own frames. [`own`] records, per thread, the frame of the runtime
//! entry point that is running; [`is_own`] tells, after a check has failed, whether
//! the access was made by runtime code below that frame: the frame chain from the
//! checked function leads to the recorded frame without passing a signal frame. A
//! signal handler that interrupted the runtime is program code: its frames hang
//! under the kernel's signal trampoline (`sa_restorer`), so its bugs are reported.
#![allow(unsafe_code)]

use core::cell::Cell;
use core::sync::atomic::{compiler_fence, AtomicUsize, Ordering};

use crate::memory;
use crate::task::{frame_pointer, stack_pointer};

/// Usable bytes of the report stack. The deepest report measured (the first one,
/// which loads the program's symbols and DWARF lines) takes about 60 KiB; a signal
/// handler of the program may also run on it while a report is printed.
pub const REPORT_STACK: usize = 512 << 10;
const GUARD: usize = 4096;
/// Linux x86-64's `SA_RESTORER` (not exported by the libc crate).
const SA_RESTORER: libc::c_int = 0x0400_0000;

/// Lowest usable address of the report stack (above its guard page); 0 until mapped.
static BASE: AtomicUsize = AtomicUsize::new(0);

/// The kernel's return path from a signal handler (glibc's `__restore_rt`), learnt
/// at start-up; 0 if unknown.
static RESTORER: AtomicUsize = AtomicUsize::new(0);

std::thread_local! {
    /// The frame of the innermost runtime entry point running on this thread; 0
    /// outside the runtime.
    static ENTRY: Cell<usize> = const { Cell::new(0) };
}

/// Runs `f` as the runtime's own code: memory operations it makes pass checks that
/// fail (see the module doc). Nests, and is async-signal-safe: each activation puts
/// back the frame it found.
#[inline(always)]
pub fn own<R>(f: impl FnOnce() -> R) -> R {
    let fp = frame_pointer();
    let old = ENTRY.with(|e| e.replace(fp));
    // Signal handlers on this thread must see the entry set before `f` runs and
    // until it returns.
    compiler_fence(Ordering::SeqCst);
    let r = f();
    compiler_fence(Ordering::SeqCst);
    ENTRY.with(|e| e.set(old));
    r
}

/// Learns the signal trampoline from the action installed for `SIGSEGV` (glibc sets
/// `sa_restorer` on every action it installs). Call after installing a handler.
pub fn learn_restorer() {
    // SAFETY: reading an action into a zeroed struct; re-installing the very action
    // read (only when it has no restorer, which glibc's wrapper then adds).
    unsafe {
        let mut cur: libc::sigaction = core::mem::zeroed();
        if libc::sigaction(libc::SIGSEGV, core::ptr::null(), &mut cur) != 0 {
            return;
        }
        if cur.sa_flags & SA_RESTORER == 0 {
            libc::sigaction(libc::SIGSEGV, &cur, core::ptr::null_mut());
            if libc::sigaction(libc::SIGSEGV, core::ptr::null(), &mut cur) != 0 {
                return;
            }
        }
        if cur.sa_flags & SA_RESTORER != 0 {
            if let Some(r) = cur.sa_restorer {
                // Relaxed: start-up, before any check can consult it; a check that
                // sees 0 only misses the signal test.
                RESTORER.store(r as usize, Ordering::Relaxed);
            }
        }
    }
}

/// The signal trampoline (`sa_restorer`) learnt at start-up, or 0: the return
/// address of every signal handler's outermost frame.
pub fn restorer() -> usize {
    // Relaxed: see `learn_restorer`.
    RESTORER.load(Ordering::Relaxed)
}

/// Whether an access checked by the function whose frame is `fp` was made by the
/// runtime itself: the frame chain from `fp` reaches this thread's runtime entry
/// frame, all frames on one stack, and no frame on the way returns into the
/// signal trampoline.
#[inline(never)]
pub fn is_own(fp: usize) -> bool {
    let entry = ENTRY.with(|e| e.get());
    if entry == 0 || fp == 0 || fp > entry {
        return false;
    }
    // Direct reads when `[fp, entry]` lies inside the report stack (mapped whole);
    // through the kernel otherwise, which fails on unmapped memory: a handler on a
    // signal stack, or one that called through code without frame pointers, gives
    // a chain the walk must not trust. Only asked after a check failed.
    let base = BASE.load(Ordering::Relaxed);
    let direct = base != 0 && fp >= base && entry + 16 <= base + REPORT_STACK;
    let read = |a: usize| {
        if direct {
            // SAFETY: `a` lies in [fp, entry + 16), inside the report stack's
            // usable mapping (checked above).
            Some(unsafe { *(a as *const usize) })
        } else {
            memory::read_word(a)
        }
    };
    // Relaxed: see `learn_restorer`.
    let restorer = RESTORER.load(Ordering::Relaxed);
    let mut f = fp;
    for _ in 0..1024 {
        if f == entry {
            return true;
        }
        if f > entry || f & 7 != 0 {
            return false;
        }
        let (Some(next), Some(ret)) = (read(f), read(f + 8)) else {
            return false;
        };
        if restorer != 0 && ret == restorer {
            return false;
        }
        if next <= f {
            return false;
        }
        f = next;
    }
    false
}

/// The report stack's usable range, once mapped.
pub fn report_stack_range() -> Option<core::ops::Range<usize>> {
    // Relaxed: see `report_stack`.
    let base = BASE.load(Ordering::Relaxed);
    (base != 0).then_some(base..base + REPORT_STACK)
}

/// The report stack's top, mapping it on first use; `None` if it cannot be mapped.
fn report_stack() -> Option<usize> {
    // Relaxed: only the report lock's holder maps or reads it (the lock orders it).
    let base = BASE.load(Ordering::Relaxed);
    if base != 0 {
        return Some(base + REPORT_STACK);
    }
    let map = memory::map_anonymous(GUARD + REPORT_STACK)?;
    memory::protect(map, GUARD, false);
    // Relaxed: as above.
    BASE.store(map + GUARD, Ordering::Relaxed);
    Some(map + GUARD + REPORT_STACK)
}

/// Runs `f` on the report stack (where it is, if that stack cannot be mapped or is
/// already the current one), marked as the runtime's own code. The caller holds
/// the report lock.
pub fn on_report_stack(f: &mut dyn FnMut()) {
    let sp = stack_pointer();
    let top = match report_stack() {
        Some(top) if !(top - REPORT_STACK..top).contains(&sp) => top,
        _ => return own(f),
    };
    let mut f = f;
    let data: *mut &mut dyn FnMut() = &mut f;
    // SAFETY: switches to the top of our own mapping (16-byte aligned, so the callee
    // starts with the ABI's alignment), calls `on_stack` there with `data`, which
    // points at a live `&mut dyn FnMut()` on the old stack, and switches back; the
    // old stack pointer lives in r12, which the callee preserves (callee-saved).
    // Every register the C ABI lets the callee clobber is declared clobbered.
    unsafe {
        core::arch::asm!(
            "mov r12, rsp",
            "mov rsp, {top}",
            "call {entry}",
            "mov rsp, r12",
            top = in(reg) top,
            entry = sym on_stack,
            in("rdi") data,
            out("r12") _,
            clobber_abi("C"),
        )
    };
}

/// The first frame on the report stack.
extern "C" fn on_stack(data: *mut &mut dyn FnMut()) {
    // SAFETY: `on_report_stack` passes a pointer to its live closure reference and
    // waits for us to return.
    let f = unsafe { &mut *data };
    own(f);
}

/// Bytes of the report stack ever used (its high-water mark: fresh pages read as
/// zero, and a report leaves no page it touched all zero).
pub fn report_stack_used() -> usize {
    // Relaxed: a diagnostic read.
    let base = BASE.load(Ordering::Relaxed);
    if base == 0 {
        return 0;
    }
    let mut at = base;
    while at < base + REPORT_STACK {
        // SAFETY: inside the report stack's usable mapping.
        if unsafe { *(at as *const usize) } != 0 {
            break;
        }
        at += 8;
    }
    base + REPORT_STACK - at
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The report stack has one user at a time (the runtime's report lock); tests
    /// running in parallel take this instead.
    static REPORT_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

    #[inline(never)]
    fn entered() -> bool {
        own(|| core::hint::black_box(inner(frame_pointer())))
    }

    #[inline(never)]
    fn inner(_outer: usize) -> bool {
        is_own(frame_pointer())
    }

    #[test]
    fn own_frames_are_recognised_and_nothing_else() {
        assert!(!is_own(frame_pointer()), "outside the runtime");
        assert!(entered());
        assert!(!is_own(frame_pointer()), "the entry is put back");
        let _lock = REPORT_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let mut on_stack = false;
        on_report_stack(&mut || on_stack = inner(0));
        assert!(on_stack, "the report stack's frames are the runtime's");
    }

    static IN_HANDLER: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

    #[inline(never)]
    extern "C" fn handler(_sig: libc::c_int) {
        // 1: seen as the runtime's own (wrong); 2: as the program's.
        let own = inner(0);
        IN_HANDLER.store(if own { 1 } else { 2 }, Ordering::SeqCst);
    }

    #[test]
    fn a_signal_handler_inside_the_runtime_is_not_the_runtime() {
        // SAFETY: installing a plain handler for SIGUSR2, which this test alone uses;
        // raising it on this thread.
        unsafe {
            let mut sa: libc::sigaction = core::mem::zeroed();
            sa.sa_sigaction = handler as *const () as usize;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(libc::SIGUSR2, &sa, core::ptr::null_mut());
            let mut segv: libc::sigaction = core::mem::zeroed();
            libc::sigaction(libc::SIGSEGV, core::ptr::null(), &mut segv);
            // learn_restorer reads the SIGSEGV action; give it one glibc installed.
            libc::sigaction(libc::SIGSEGV, &segv, core::ptr::null_mut());
        }
        learn_restorer();
        assert_ne!(RESTORER.load(Ordering::Relaxed), 0);
        own(|| {
            // SAFETY: raise has no preconditions.
            unsafe { libc::raise(libc::SIGUSR2) };
        });
        assert_eq!(IN_HANDLER.load(Ordering::SeqCst), 2);
        let _lock = REPORT_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let mut on_stack = 0;
        on_report_stack(&mut || {
            // SAFETY: as above.
            unsafe { libc::raise(libc::SIGUSR2) };
            on_stack = IN_HANDLER.load(Ordering::SeqCst);
        });
        assert_eq!(
            on_stack, 2,
            "a handler on the report stack is the program's"
        );
    }

    #[test]
    fn report_stack_runs_the_symbolizer() {
        let mut sp = 0;
        let mut name = String::new();
        let pc = report_stack_runs_the_symbolizer as *const () as usize;
        let _lock = REPORT_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        on_report_stack(&mut || {
            sp = stack_pointer();
            crate::symbolize::symbolize(pc + 1, true, &mut |s| name = s.name.to_string());
        });
        let base = BASE.load(Ordering::Relaxed);
        assert!((base..base + REPORT_STACK).contains(&sp));
        assert!(name.ends_with("report_stack_runs_the_symbolizer"), "{name}");
        let used = report_stack_used();
        println!("report stack used by a first symbolization: {used} bytes");
        assert!(used > 0 && used < REPORT_STACK / 2, "{used}");
    }
}
