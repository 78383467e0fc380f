//! Linux's RCU API for C programs (`call_rcu`, `rcu_barrier`, `synchronize_rcu`,
//! `rcu_read_lock`/`rcu_read_unlock`), with KASAN's aux stack: `call_rcu` records its
//! caller's stack on the object holding the `rcu_head`, so a use-after-free of it
//! shows "Last potentially related work creation" with the `call_rcu` (Linux's
//! `__call_rcu_common` does `kasan_record_aux_stack`).
//!
//! Grace periods are SRCU's two-counter scheme: a reader increments the counter of
//! the current phase (outermost `rcu_read_lock` of a thread; the phase is kept for
//! its `rcu_read_unlock`) and decrements it when it leaves; `synchronize_rcu` flips
//! the phase and waits for the old phase's counter to drain, twice, so every reader
//! that was inside when it started has left. Callbacks run on one runtime thread
//! (`rcuc/0`), after a grace period, in queue order; `rcu_barrier` waits until every
//! callback queued before it has run. The thread is started on the first
//! `call_rcu`, and again in a forked child (which has no threads but the caller).
//! A callback may call `call_rcu` again; `rcu_barrier` or `synchronize_rcu` from a
//! callback would wait for itself: one warning line and it returns.
#![allow(unsafe_code)]

use core::cell::Cell;
use core::ffi::c_void;
use core::ptr;
use core::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

use kasan_hosted::task::frame_pointer;

use crate::runtime::{self, ensure_init, format_into};

/// `struct rcu_head` (include/kasan.h): `next` links the runtime's queue.
#[repr(C)]
#[allow(missing_debug_implementations)]
pub struct RcuHead {
    next: *mut RcuHead,
    func: Option<unsafe extern "C" fn(*mut RcuHead)>,
}

impl RcuHead {
    /// An unqueued head.
    pub const fn new() -> RcuHead {
        RcuHead {
            next: ptr::null_mut(),
            func: None,
        }
    }
}

impl Default for RcuHead {
    fn default() -> Self {
        Self::new()
    }
}

/// Readers in each phase.
static READERS: [AtomicI64; 2] = [AtomicI64::new(0), AtomicI64::new(0)];
/// The current phase (its low bit indexes `READERS`).
static PHASE: AtomicU32 = AtomicU32::new(0);
/// Serialises grace periods.
static GP: Mutex<()> = Mutex::new(());

std::thread_local! {
    /// This thread's nesting depth of `rcu_read_lock` and the phase its outermost
    /// lock counted in.
    static READ_DEPTH: Cell<(u32, u32)> = const { Cell::new((0, 0)) };
    /// Whether this thread is the callback thread.
    static IS_RCU_THREAD: Cell<bool> = const { Cell::new(false) };
}

fn warn(args: core::fmt::Arguments<'_>) {
    let mut buf = [0u8; 240];
    kasan_hosted::output::write_message::<1024>(format_into(&mut buf, args));
}

/// `void rcu_read_lock(void)`.
#[unsafe(no_mangle)]
pub extern "C" fn rcu_read_lock() {
    READ_DEPTH.with(|d| {
        let (depth, phase) = d.get();
        if depth == 0 {
            // SeqCst, with the SeqCst flip and drain loads in `wait_phase`: either
            // the writer sees this reader in the phase it reads, or this reader
            // sees the new phase (SRCU's ordering).
            let p = PHASE.load(Ordering::SeqCst) & 1;
            READERS[p as usize].fetch_add(1, Ordering::SeqCst);
            d.set((1, p));
        } else {
            d.set((depth + 1, phase));
        }
    });
}

/// `void rcu_read_unlock(void)`: an unlock without a lock gets one warning line.
#[unsafe(no_mangle)]
pub extern "C" fn rcu_read_unlock() {
    READ_DEPTH.with(|d| match d.get() {
        (0, _) => warn(format_args!(
            "kasan: rcu_read_unlock without rcu_read_lock in this thread, ignored\n"
        )),
        (1, p) => {
            // Release (SeqCst): the reader's accesses happen before the writer's
            // drain load sees the counter fall.
            READERS[p as usize].fetch_sub(1, Ordering::SeqCst);
            d.set((0, 0));
        }
        (n, p) => d.set((n - 1, p)),
    });
}

/// Flips the phase and waits until the old one has no reader.
fn wait_phase() {
    // SeqCst: pairs with the readers' SeqCst load and increment (see rcu_read_lock).
    let old = PHASE.fetch_add(1, Ordering::SeqCst) & 1;
    let mut spins = 0u32;
    // SeqCst: pairs with the readers' SeqCst decrement.
    while READERS[old as usize].load(Ordering::SeqCst) > 0 {
        spins += 1;
        if spins < 100 {
            core::hint::spin_loop();
        } else {
            std::thread::sleep(std::time::Duration::from_micros(50));
        }
    }
}

/// `void synchronize_rcu(void)`: returns after a grace period. Called inside a
/// read-side critical section of this thread (it would wait for itself) it says so
/// and returns at once.
#[unsafe(no_mangle)]
pub extern "C" fn synchronize_rcu() {
    if READ_DEPTH.with(|d| d.get().0) > 0 {
        warn(format_args!(
            "kasan: synchronize_rcu inside rcu_read_lock of this thread would wait for itself, returned at once\n"
        ));
        return;
    }
    grace_period();
}

fn grace_period() {
    let _gp = GP.lock().unwrap_or_else(|e| e.into_inner());
    // Two flips: a reader that read the phase just before the first flip and counted
    // itself after the first drain is caught by the second.
    wait_phase();
    wait_phase();
}

/// The callback queue and the thread's bookkeeping.
struct Queue {
    head: *mut RcuHead,
    tail: *mut RcuHead,
}

// SAFETY: the queue's heads are only touched under `QUEUE`'s mutex.
unsafe impl Send for Queue {}

static QUEUE: Mutex<Queue> = Mutex::new(Queue {
    head: ptr::null_mut(),
    tail: ptr::null_mut(),
});
static WAKE: Condvar = Condvar::new();
/// Callbacks queued so far, and run so far (the barrier waits for the first to be
/// reached by the second).
static QUEUED: AtomicU64 = AtomicU64::new(0);
static DONE: Mutex<u64> = Mutex::new(0);
static DONE_CV: Condvar = Condvar::new();
/// The process that started the callback thread (0: none yet).
static THREAD_PID: AtomicUsize = AtomicUsize::new(0);

/// Starts the callback thread in this process if it has none.
fn ensure_thread() {
    // SAFETY: getpid has no preconditions.
    let pid = unsafe { libc::getpid() } as usize;
    // Acquire pairs with the Release store below (nothing else is published).
    if THREAD_PID.load(Ordering::Acquire) == pid {
        return;
    }
    let q = QUEUE.lock().unwrap_or_else(|e| e.into_inner());
    if THREAD_PID.load(Ordering::Acquire) == pid {
        return;
    }
    if THREAD_PID.load(Ordering::Acquire) != 0 {
        // A forked child: the parent's thread is gone with the batch it had taken;
        // those callbacks never run here, so the barrier stops counting them.
        let mut waiting = 0u64;
        let mut at = q.head;
        while !at.is_null() {
            waiting += 1;
            // SAFETY: a queued head, valid until its callback runs.
            at = unsafe { (*at).next };
        }
        let mut done = DONE.lock().unwrap_or_else(|e| e.into_inner());
        // Relaxed: see call_rcu_internal.
        *done = QUEUED.load(Ordering::Relaxed).saturating_sub(waiting);
    }
    let started = std::thread::Builder::new()
        .name("rcuc/0".into())
        .spawn(callback_thread)
        .is_ok();
    if started {
        // Release: see the Acquire loads above.
        THREAD_PID.store(pid, Ordering::Release);
    } else {
        warn(format_args!(
            "kasan: call_rcu: cannot start the RCU callback thread; callbacks run at rcu_barrier\n"
        ));
    }
    drop(q);
}

fn callback_thread() {
    IS_RCU_THREAD.with(|t| t.set(true));
    loop {
        let batch = {
            let mut q = QUEUE.lock().unwrap_or_else(|e| e.into_inner());
            while q.head.is_null() {
                q = WAKE.wait(q).unwrap_or_else(|e| e.into_inner());
            }
            let head = q.head;
            q.head = ptr::null_mut();
            q.tail = ptr::null_mut();
            head
        };
        grace_period();
        run_batch(batch);
    }
}

/// Runs the callbacks of a detached list, in order. Each `next` is read before its
/// callback runs: the callback usually frees the object.
fn run_batch(mut at: *mut RcuHead) {
    let mut n = 0u64;
    while !at.is_null() {
        // SAFETY: a head the program queued with call_rcu; it stays valid until its
        // callback runs.
        let (next, func) = unsafe { ((*at).next, (*at).func) };
        if let Some(f) = func {
            // SAFETY: the program's callback, called as Linux calls it.
            unsafe { f(at) };
        }
        n += 1;
        at = next;
    }
    let mut done = DONE.lock().unwrap_or_else(|e| e.into_inner());
    *done += n;
    DONE_CV.notify_all();
}

/// `void call_rcu(struct rcu_head *head, rcu_callback_t func)`: `func(head)` runs
/// after a grace period. NULL `head` or `func` gets one warning line.
#[unsafe(no_mangle)]
pub extern "C" fn call_rcu(head: *mut RcuHead, func: Option<unsafe extern "C" fn(*mut RcuHead)>) {
    let fp = frame_pointer();
    ensure_init();
    if head.is_null() || func.is_none() {
        warn(format_args!(
            "kasan: call_rcu({head:p}, {:p}): NULL head or callback, ignored\n",
            func.map_or(ptr::null(), |f| f as *const c_void)
        ));
        return;
    }
    // The head is written by the queue: the program's memory, checked as Linux's
    // instrumented __call_rcu_common writes it.
    if !runtime::check(head as usize, core::mem::size_of::<RcuHead>(), true, fp) {
        return;
    }
    runtime::record_aux(head as usize, fp);
    call_rcu_internal(head, func);
}

/// Queues `head` (no check, no aux stack): `call_rcu` and the runtime's own deferred
/// frees.
pub(crate) fn call_rcu_internal(
    head: *mut RcuHead,
    func: Option<unsafe extern "C" fn(*mut RcuHead)>,
) {
    ensure_thread();
    // SAFETY: `head` is a valid rcu_head the caller gives to the queue.
    unsafe {
        (*head).next = ptr::null_mut();
        (*head).func = func;
    }
    let mut q = QUEUE.lock().unwrap_or_else(|e| e.into_inner());
    if q.tail.is_null() {
        q.head = head;
    } else {
        // SAFETY: the tail is a queued head, valid until its callback runs.
        unsafe { (*q.tail).next = head };
    }
    q.tail = head;
    // Relaxed: read by rcu_barrier under DONE's lock ordering (the queue mutex
    // orders the increment with the callback thread's take).
    QUEUED.fetch_add(1, Ordering::Relaxed);
    drop(q);
    WAKE.notify_one();
}

/// `void rcu_barrier(void)`: waits until every callback queued before it has run.
/// From a callback it would wait for itself: one warning line and it returns.
#[unsafe(no_mangle)]
pub extern "C" fn rcu_barrier() {
    if IS_RCU_THREAD.with(|t| t.get()) {
        warn(format_args!(
            "kasan: rcu_barrier from an RCU callback would wait for itself, returned at once\n"
        ));
        return;
    }
    // SAFETY: getpid has no preconditions.
    let pid = unsafe { libc::getpid() } as usize;
    // Relaxed: see call_rcu_internal.
    let target = QUEUED.load(Ordering::Relaxed);
    // Acquire: see ensure_thread.
    if THREAD_PID.load(Ordering::Acquire) != pid {
        // No thread in this process (a forked child, or it could not start): run
        // what is queued here, after a grace period.
        let batch = {
            let mut q = QUEUE.lock().unwrap_or_else(|e| e.into_inner());
            let head = q.head;
            q.head = ptr::null_mut();
            q.tail = ptr::null_mut();
            head
        };
        grace_period();
        run_batch(batch);
        return;
    }
    let mut done = DONE.lock().unwrap_or_else(|e| e.into_inner());
    while *done < target {
        done = DONE_CV.wait(done).unwrap_or_else(|e| e.into_inner());
    }
}
