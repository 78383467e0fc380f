//! Leaving frames without returning: what `__asan_handle_no_return` unpoisons, and the
//! unwinder's entry interposed so that exceptions thrown by uninstrumented code (a
//! `no_sanitize_address` function, libstdc++'s own `std::__throw_*`, a Rust panic) clean
//! up the redzones of the frames they skip, as ASan's `__cxa_throw` and
//! `_Unwind_RaiseException` interceptors do.
//!
//! Which stacks are cleared (after ASan's rule on Linux, `PlatformUnpoisonStacks`):
//!
//! ```text
//!   on the thread's stack         -> [sp, top) of it (no system call)
//!   on the sigaltstack            -> the whole altstack and the whole thread stack
//!                                    (a longjmp out of a handler lands on the latter),
//!                                    whole shadow pages given back, not written
//!   anywhere else (makecontext,   -> nothing: its bounds are unknown, and clearing up
//!   a coroutine's stack)             to the thread's top could clear heap redzones;
//!                                    one `kasan:` line says so, once
//! ```
//!
//! ASan also clears the altstack when it is set but not in use; a handler that left
//! it by a jump called this there, and one that returned left it clean, so this does
//! not (it would be a system call and 32 KiB of shadow on every throw and `exit`).
//!
//! The interposer is a weak `_Unwind_RaiseException`: in a dynamic program the
//! executable's definition comes first, so libstdc++'s `__cxa_throw` (and Rust's panic)
//! reach it, and it calls libgcc's through `dlsym(RTLD_NEXT)`. A static link holds
//! libgcc_eh's strong definition, which replaces the weak one; there `kasan cc` links
//! with `--wrap=_Unwind_RaiseException`, so every call of it in the program (libstdc++'s
//! included) reaches [`__wrap__Unwind_RaiseException`], which calls the real one as
//! `__real__Unwind_RaiseException` (a weak reference: 0 in a link without the wrap).
#![allow(unsafe_code)]

use core::ffi::c_void;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use kasan_hosted::memory::{clear_shadow, SHADOW};
use kasan_hosted::task::stack_pointer;

use crate::runtime::ready;
use crate::threads::{known_stack_bounds, stack_bounds};

/// Largest stack range cleared at once (a thread's stack is at most 1 GiB here).
const MAX_CLEAR: usize = 1 << 30;

/// Marks `[low, high)` of a stack accessible: written directly (the live part of the
/// stack above `sp`, small and about to be reused), or, for a whole stack, through
/// [`clear_shadow`], which gives whole shadow pages back instead of writing them.
fn clear(low: usize, high: usize, whole: bool) {
    if high > low && high - low <= MAX_CLEAR {
        if whole {
            clear_shadow(low, high);
        } else {
            SHADOW.poison(low, high - low, 0);
        }
    }
}

/// Writes one `kasan:` line (no lock, no allocation: it may run in a signal handler).
fn warn(what: core::fmt::Arguments<'_>) {
    let mut buf = [0u8; 200];
    kasan_hosted::output::write_message::<1024>(crate::runtime::format_into(
        &mut buf,
        format_args!("kasan: {what}\n"),
    ));
}

/// Whether the unknown-stack line was printed.
static WARNED: AtomicBool = AtomicBool::new(false);

/// Clears the redzones of the frames a non-returning call leaves, per the table above.
pub(crate) fn no_return() {
    if !ready() {
        return;
    }
    let sp = stack_pointer();
    let (low, high) = match known_stack_bounds() {
        (_, 0) => stack_bounds(),
        known => known,
    };
    // The common case, no system call: on the thread's own stack.
    if (low..high).contains(&sp) {
        clear(sp & !4095, high, false);
        return;
    }
    let mut alt = libc::stack_t {
        ss_sp: core::ptr::null_mut(),
        ss_flags: 0,
        ss_size: 0,
    };
    // SAFETY: sigaltstack with a null new stack only reads the current one.
    let on_alt = unsafe { libc::sigaltstack(core::ptr::null(), &mut alt) } == 0
        && alt.ss_flags & libc::SS_ONSTACK != 0;
    if on_alt {
        clear(alt.ss_sp as usize, alt.ss_sp as usize + alt.ss_size, true);
        clear(low, high, true);
    } else if !WARNED.swap(true, Ordering::Relaxed) {
        // Relaxed: a flag for one line, publishing nothing.
        warn(format_args!(
            "a call that does not return, on a stack of unknown bounds (sp {sp:#x}): its redzones are left; false reports may follow"
        ));
    }
}

/// `_Unwind_RaiseException`'s signature: `_Unwind_Reason_Code (struct _Unwind_Exception *)`.
type Raise = unsafe extern "C" fn(*mut c_void) -> i32;

/// libgcc's `_Unwind_RaiseException`, found once (0: not looked up, 1: none).
static REAL_RAISE: AtomicUsize = AtomicUsize::new(0);

/// `_URC_FATAL_PHASE1_ERROR`: what the unwinder returns when it cannot start.
const URC_FATAL_PHASE1_ERROR: i32 = 3;

/// Clears the frames the exception leaves, then raises it with libgcc's unwinder at
/// `real` (0: there is none, and the exception cannot be raised).
///
/// # Safety
///
/// `real` is 0 or libgcc's `_Unwind_RaiseException`; `exc` as it requires.
unsafe fn raise(real: usize, exc: *mut c_void) -> i32 {
    no_return();
    if real == 0 {
        warn(format_args!(
            "_Unwind_RaiseException: no unwinder below the runtime's; the exception cannot be raised"
        ));
        return URC_FATAL_PHASE1_ERROR;
    }
    // SAFETY: `real` is libgcc's function of this signature (the caller's promise).
    unsafe { core::mem::transmute::<usize, Raise>(real)(exc) }
}

/// The interposed `_Unwind_RaiseException` (called through the weak symbol below).
///
/// # Safety
///
/// As libgcc's `_Unwind_RaiseException`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kasan_unwind_raise_exception(exc: *mut c_void) -> i32 {
    let mut real = REAL_RAISE.load(Ordering::Relaxed);
    if real == 0 {
        // SAFETY: dlsym with a NUL-terminated name; RTLD_NEXT skips this executable.
        let found = unsafe { libc::dlsym(libc::RTLD_NEXT, c"_Unwind_RaiseException".as_ptr()) };
        real = if found.is_null() { 1 } else { found as usize };
        // Relaxed: every thread computes the same value; nothing else is published.
        REAL_RAISE.store(real, Ordering::Relaxed);
    }
    if real == kasan_unwind_raise_exception as *const () as usize {
        real = 1;
    }
    // SAFETY: `real` is 1 (none, passed as 0) or what dlsym found for the name.
    unsafe { raise(if real == 1 { 0 } else { real }, exc) }
}

/// The `--wrap` form for static links (see the module text).
///
/// # Safety
///
/// As libgcc's `_Unwind_RaiseException`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __wrap__Unwind_RaiseException(exc: *mut c_void) -> i32 {
    // SAFETY: the linker's `__real_` symbol is libgcc's function, or 0.
    unsafe { raise(kasan_real_unwind_raise_exception(), exc) }
}

unsafe extern "C" {
    /// The address of `__real__Unwind_RaiseException`, or 0 (the asm below).
    safe fn kasan_real_unwind_raise_exception() -> usize;
}

// A weak undefined reference read through the GOT: 0 when nothing defines it.
core::arch::global_asm!(
    ".weak __real__Unwind_RaiseException",
    ".pushsection .text.kasan_real_unwind_raise_exception, \"ax\", @progbits",
    ".globl kasan_real_unwind_raise_exception",
    ".hidden kasan_real_unwind_raise_exception",
    ".type kasan_real_unwind_raise_exception, @function",
    "kasan_real_unwind_raise_exception:",
    "movq __real__Unwind_RaiseException@GOTPCREL(%rip), %rax",
    "ret",
    ".size kasan_real_unwind_raise_exception, . - kasan_real_unwind_raise_exception",
    ".popsection",
    options(att_syntax),
);

// The weak definition: a strong one (libgcc_eh in a static link) takes its place.
core::arch::global_asm!(
    ".weak _Unwind_RaiseException",
    ".type _Unwind_RaiseException, @function",
    "_Unwind_RaiseException:",
    "jmp {raise}",
    ".size _Unwind_RaiseException, . - _Unwind_RaiseException",
    raise = sym kasan_unwind_raise_exception,
);
