//! Who is running, where, and when, for a Linux process: thread ids (cached per
//! thread), `comm`, the CPU, a monotonic clock, and the current thread's stack
//! bounds, which keep the frame-pointer walk inside the stack.
#![allow(unsafe_code)]

use core::cell::Cell;

use kasan_core::platform::Task;

std::thread_local! {
    /// This thread's id; 0 until first asked (and after `fork`, see `forget_tid`).
    static TID: Cell<u32> = const { Cell::new(0) };
    /// The top of this thread's stack; 0 until first asked.
    static STACK_TOP: Cell<usize> = const { Cell::new(0) };
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

/// The CPU this thread runs on.
pub fn cpu() -> u32 {
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
    unsafe {
        core::arch::asm!("mov {}, rbp", out(reg) fp, options(nomem, nostack, preserves_flags))
    };
    fp
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

/// Saves return addresses by walking frame pointers from frame `fp` (which must be
/// a frame of the current thread), skipping `skip` frames first.
#[inline(never)]
pub fn save_stack(fp: usize, skip: usize, out: &mut [usize]) -> usize {
    let top = stack_top();
    let sp = stack_pointer();
    if fp < sp || fp >= top {
        return 0;
    }
    kasan_core::stack::walk_frames(fp, top, skip, out, |a| {
        // SAFETY: `walk_frames` only reads inside [fp, top), which lies within this
        // thread's stack between the current frame and the stack's top: mapped.
        Some(unsafe { *(a as *const usize) })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
