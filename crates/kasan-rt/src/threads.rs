//! Thread start and exit, and `vfork`: the events after which a stack's shadow may
//! hold poison of frames that no longer exist (compiler-rt clears it at the same
//! points).
//!
//! - A thread ended by `pthread_cancel` (or `pthread_exit`) inside instrumented
//!   frames never ran their epilogues, and glibc hands its cached stack to the next
//!   thread. So `pthread_create` is interposed: the new thread starts in
//!   [`thread_start`], which clears the shadow of its whole stack and gives it an
//!   alternate signal stack ([`crate::signals`]) before the program's start routine
//!   runs; a thread-local guard clears it again, and frees the signal stack, when
//!   the thread exits.
//! - A `vfork` child runs on the parent's stack, below the parent's stack pointer,
//!   and leaves its frames' poison there when it calls `_exit` or `execve`. `vfork`
//!   is interposed (in assembly: both processes return through the same stack) and
//!   the parent clears the shadow below its stack pointer when it resumes.
//!
//! The real `pthread_create`: in a dynamic program the next definition after ours
//! (`dlsym(RTLD_NEXT)`, libc's); in a static one glibc's `__pthread_create_2_1`,
//! referenced weakly (a dynamic libc does not export it) and pulled out of `libc.a`
//! by the `-u __pthread_create_2_1` that `kasan cc` links with.
//!
//! Fork in the software tag-based mode ([`fork_enter`], [`fork_prepare`],
//! [`fork_parent`], [`fork_child`]): the tagged heap is one memfd mapped `MAP_SHARED` at 16 aliases,
//! so a plain fork would share it between parent and child. The runtime's
//! `pthread_atfork` handlers call these (enter once signals are blocked, before the
//! locks; prepare last, with every lock held; parent and child first, before the locks and the signal mask are
//! released): the other threads are parked, the child copies the heap into a fresh
//! memfd before any program code runs, the parent waits for it and resumes them
//! (`kasan_hosted::tagged`). They do nothing unless the tagged region was mapped,
//! i.e. in generic mode. Neither `fork` nor `_Fork` is interposed: glibc's `fork`
//! runs the atfork handlers itself, and calls its `_Fork` directly (not through the
//! PLT: `call _Fork` inside libc.so, checked on glibc 2.36), so interposing `_Fork`
//! would only catch programs that call it by name, while in a `-static` link it
//! would capture `fork.o`'s own call and leave no real `_Fork` to forward to. A
//! program calling `_Fork` (which skips atfork handlers by definition) or raw
//! `syscall(SYS_fork)` in tag mode gets a child that shares the heap (documented).
#![allow(unsafe_code)]

use core::cell::Cell;
use core::ffi::{c_int, c_void};

use kasan_hosted::memory::clear_shadow;
use kasan_hosted::{tagged, task};

use crate::runtime::{ensure_init, ready};
use crate::signals;

const PAGE: usize = 4096;

std::thread_local! {
    /// This thread's stack, `[low, high)`; `(0, 0)` until known.
    static STACK: Cell<(usize, usize)> = const { Cell::new((0, 0)) };
    /// Clears the stack's shadow and frees the signal stack when a thread started by
    /// [`thread_start`] exits.
    static EXIT_GUARD: ExitGuard = const { ExitGuard(Cell::new(0)) };
}

/// The current thread's stack if already known, else `(0, 0)` (safe in a signal
/// handler: one thread-local load).
pub fn known_stack_bounds() -> (usize, usize) {
    STACK.with(Cell::get)
}

/// The current thread's stack, `[low, high)`, found once: the main thread's reaches
/// down by its stack limit (`RLIMIT_STACK`, at most 1 GiB); another thread's comes
/// from `pthread_getattr_np`.
pub fn stack_bounds() -> (usize, usize) {
    let known = STACK.with(Cell::get);
    if known.1 != 0 {
        return known;
    }
    let high = task::stack_top();
    // SAFETY: getpid and gettid have no preconditions.
    let main = unsafe { libc::getpid() == libc::gettid() };
    let low = if main {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes one struct.
        let size = if unsafe { libc::getrlimit(libc::RLIMIT_STACK, &mut limit) } == 0 {
            (limit.rlim_cur as usize).min(1 << 30)
        } else {
            8 << 20
        };
        high.saturating_sub(size)
    } else {
        thread_stack_low().unwrap_or(high.saturating_sub(8 << 20))
    };
    let bounds = (low & !(PAGE - 1), high);
    STACK.with(|s| s.set(bounds));
    task::set_stack_low(bounds.0);
    bounds
}

/// The low end of a (non-main) thread's stack, from glibc.
fn thread_stack_low() -> Option<usize> {
    // SAFETY: the attribute object is initialised by pthread_getattr_np and destroyed
    // once read; the out-pointers are live locals.
    unsafe {
        let mut attr: libc::pthread_attr_t = core::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
            return None;
        }
        let mut addr: *mut c_void = core::ptr::null_mut();
        let mut size = 0usize;
        let r = libc::pthread_attr_getstack(&attr, &mut addr, &mut size);
        libc::pthread_attr_destroy(&mut attr);
        (r == 0 && !addr.is_null()).then_some(addr as usize)
    }
}

/// Start-up on the main thread: its bounds and its signal stack.
pub fn main_thread_start() {
    stack_bounds();
    signals::install_altstack();
}

/// Clears the thread's stack shadow and frees its signal stack at thread exit.
struct ExitGuard(Cell<usize>);

impl Drop for ExitGuard {
    fn drop(&mut self) {
        signals::release_altstack(self.0.get());
        let (low, high) = STACK.with(Cell::get);
        if high != 0 {
            clear_shadow(low, high);
        }
    }
}

/// Runs first on every thread the program creates: clean stack shadow (a cached
/// stack may carry a cancelled thread's poison), a signal stack, the exit guard.
fn thread_start() {
    if !ready() {
        return;
    }
    let (low, high) = stack_bounds();
    clear_shadow(low, high);
    let alt = signals::install_altstack();
    EXIT_GUARD.with(|g| g.0.set(alt));
}

/// What the trampoline needs to call the program's start routine (returned in
/// `rax:rdx`, as the C ABI returns a two-word struct).
#[repr(C)]
struct Start {
    routine: extern "C" fn(*mut c_void) -> *mut c_void,
    arg: *mut c_void,
}

/// The trampoline's work: the thread's start-up, and what to run next.
extern "C" fn prepare(start: *mut c_void) -> Start {
    // SAFETY: `pthread_create` below passed a `Box<Start>` it gave up.
    let start = unsafe { Box::from_raw(start.cast::<Start>()) };
    thread_start();
    *start
}

/// The new thread's first code: [`prepare`], then a jump (not a call) to the
/// program's start routine, so that the routine returns straight to glibc's
/// `start_thread` and no runtime frame sits under the program's frames in the
/// thread's stack traces.
#[unsafe(naked)]
extern "C" fn trampoline(start: *mut c_void) -> *mut c_void {
    core::arch::naked_asm!(
        // Entry: rsp is 8 mod 16; the call below needs 0 mod 16.
        "sub rsp, 8",
        "call {prepare}",
        "add rsp, 8",
        // rax: the routine, rdx: its argument; rsp is as at entry, so the routine
        // starts as if start_thread had called it.
        "mov rdi, rdx",
        "jmp rax",
        prepare = sym prepare,
    )
}

type PthreadCreate = unsafe extern "C" fn(
    *mut libc::pthread_t,
    *const libc::pthread_attr_t,
    extern "C" fn(*mut c_void) -> *mut c_void,
    *mut c_void,
) -> c_int;

/// glibc's own `pthread_create` (see the module doc), or `None` if there is none.
fn real_pthread_create() -> Option<PthreadCreate> {
    let weak: usize;
    // SAFETY: loads the GOT entry of a weak undefined symbol: its address, or 0 if
    // the link did not define it. No memory but the GOT is read.
    unsafe {
        core::arch::asm!(
            ".weak __pthread_create_2_1",
            "mov {}, qword ptr [rip + __pthread_create_2_1@GOTPCREL]",
            out(reg) weak,
            options(nostack, readonly, preserves_flags)
        )
    };
    let addr = if weak != 0 {
        weak
    } else {
        // SAFETY: dlsym with a NUL-terminated name; RTLD_NEXT finds the definition
        // after this object's (libc's).
        unsafe { libc::dlsym(libc::RTLD_NEXT, c"pthread_create".as_ptr()) as usize }
    };
    // SAFETY: either symbol is glibc's pthread_create, of this type.
    (addr != 0 && addr != pthread_create as *const () as usize)
        .then(|| unsafe { core::mem::transmute::<usize, PthreadCreate>(addr) })
}

/// `int pthread_create(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *)`:
/// glibc's, with the new thread starting in [`thread_start`].
///
/// # Safety
///
/// As C's `pthread_create`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pthread_create(
    thread: *mut libc::pthread_t,
    attr: *const libc::pthread_attr_t,
    routine: extern "C" fn(*mut c_void) -> *mut c_void,
    arg: *mut c_void,
) -> c_int {
    ensure_init();
    let Some(real) = real_pthread_create() else {
        return libc::ENOSYS;
    };
    let start = Box::into_raw(Box::new(Start { routine, arg }));
    // SAFETY: the caller's arguments, with our trampoline and its argument.
    let r = unsafe { real(thread, attr, trampoline, start.cast()) };
    if r != 0 {
        // SAFETY: no thread was created, so the box is still ours.
        drop(unsafe { Box::from_raw(start) });
    }
    r
}

/// The parent's side of `vfork`, called with its stack pointer once the child has
/// exited or exec'd: the child's frames lay below it.
extern "C" fn vfork_parent(sp: usize) {
    if !ready() {
        return;
    }
    let (low, high) = stack_bounds();
    if low < sp && sp <= high {
        clear_shadow(low, sp);
    }
}

/// Sets `errno` and returns -1 (a failed `vfork`).
extern "C" fn vfork_failed(errno: c_int) -> c_int {
    // SAFETY: __errno_location returns this thread's errno slot.
    unsafe { *libc::__errno_location() = errno };
    -1
}

/// `pid_t vfork(void)`, as glibc's: the return address is kept in a register across
/// the system call (the child may overwrite the stack before the parent resumes).
/// In the parent, [`vfork_parent`] then clears the child's stale poison.
///
/// # Safety
///
/// As C's `vfork`: the child may only call `_exit` or an `exec` function.
#[unsafe(naked)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vfork() -> c_int {
    core::arch::naked_asm!(
        "pop rdx",
        "mov eax, {nr}",
        "syscall",
        "push rdx",
        "cmp rax, -4095",
        "jae 2f",
        "test eax, eax",
        "jz 3f",
        // Parent: keep the pid across the call (the push also aligns the stack).
        "push rax",
        "lea rdi, [rsp + 16]",
        "call {parent}",
        "pop rax",
        "3:",
        "ret",
        "2:",
        "neg eax",
        "mov edi, eax",
        "jmp {failed}",
        nr = const libc::SYS_vfork,
        parent = sym vfork_parent,
        failed = sym vfork_failed,
    )
}

/// Before `fork`, first in the runtime's atfork prepare handler once signals are
/// blocked, before any lock is taken: in tag mode, marks this thread as waiting for
/// the locks (a fork under way elsewhere cannot park it). Nothing in generic mode.
pub fn fork_enter() {
    if let Some(heap) = tagged::get() {
        heap.fork_enter();
    }
}

/// Before `fork`, last in the runtime's atfork prepare handler (every runtime lock
/// held, signals blocked): in tag mode, opens the fork pipe and parks the other
/// threads. Nothing in generic mode.
pub fn fork_prepare() {
    if let Some(heap) = tagged::get() {
        heap.fork_prepare();
    }
}

/// In the parent after `fork` (also a failed one), first in the runtime's atfork
/// parent handler: in tag mode, waits until the child has its own heap, then resumes
/// the parked threads. Nothing in generic mode.
pub fn fork_parent() {
    if let Some(heap) = tagged::get() {
        heap.fork_parent();
    }
}

/// In the child after `fork`, first in the runtime's atfork child handler (before
/// any program code and before signals are unblocked): in tag mode, moves the heap
/// to a private copy (or exits with status 111). Nothing in generic mode.
pub fn fork_child() {
    if let Some(heap) = tagged::get() {
        heap.fork_child();
        // The private copy is mapped linearly: vmap areas map their pages again
        // once the locks are released (`kernel_mm::unlock_all`).
    }
}
