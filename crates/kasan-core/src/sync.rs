//! The one lock primitive the core and the allocators use: a test-and-set spinlock
//! that works before any OS service exists and in any context (no allocation, no
//! blocking call). Critical sections are kept to a few hundred instructions.
//!
//! The lock word holds its holder's context id (a thread, as the platform names it
//! through [`set_context_source`]), so a holder that re-enters on the same thread
//! (a signal handler interrupting it, as an interrupt would in a kernel that took
//! the lock without disabling interrupts) is recognised: [`SpinLock::lock_unless_held`]
//! then answers `None` instead of spinning on a lock that cannot be released.
//!
//! A context nested in an interrupted runtime call (a signal handler that ran while
//! its thread was inside the allocator, so holding locks in some order the handler
//! cannot know) must not wait for *any* lock another thread holds: that thread may
//! be waiting for one the interrupted call holds. The platform says when a context
//! is nested ([`set_nested_source`]); there [`SpinLock::lock_unless_held`] waits a
//! bounded time for a contended lock and then answers `None`, which callers treat
//! as "busy" (the allocation fails as `GFP_ATOMIC` may; the depot saves no stack).
//! A lock held by a thread taking every lock before `fork` ([`set_forking`]) is
//! answered `None` at once: that thread keeps what it took until it has them all,
//! so it may be waiting for one the interrupted call holds, and a bounded wait per
//! lock, repeated by every call of a handler that signals keep re-entering, could
//! keep the interrupted call from ever releasing it (a livelock).
//!
//! Once contended for a while (a few hundred pauses), a waiter sleeps instead of
//! spinning, if the platform registered a way to ([`set_wait_source`]: a futex on a
//! hosted platform), so threads that outnumber the CPUs do not spin through the
//! time slice of the holder they wait for. Without it (a kernel, early start-up)
//! waiters spin as before; nested contexts never sleep (their wait is bounded).
//!
//! ```text
//!  waiter:  waiters += 1 ; s = seq ; CAS(locked) fails ; wait(seq == s) ; retry
//!  holder:  locked <- UNLOCKED (swap) ; if waiters > 0 { seq += 1 ; wake one }
//! ```
//!
//! Both sides' first two steps are SeqCst, so the holder sees the waiter counted or
//! the waiter's CAS sees the lock free; a wake between the waiter's read of `seq`
//! and its sleep changed `seq`, so the sleep returns at once: no wake is lost.
#![allow(unsafe_code)]

use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicUsize, Ordering};

/// The lock word of a free lock.
const UNLOCKED: usize = 0;
/// The id of a holder when no context source is registered (holders are then
/// anonymous and re-entry is not recognised).
pub const ANONYMOUS: usize = 1;

/// The platform's "who am I" function (0: none yet).
static CONTEXT_SOURCE: AtomicPtr<()> = AtomicPtr::new(core::ptr::null_mut());

/// The platform's "is this context nested in an interrupted runtime call" function.
static NESTED_SOURCE: AtomicPtr<()> = AtomicPtr::new(core::ptr::null_mut());

/// How many backoff rounds (each up to 1024 pauses) a nested context waits for a
/// contended lock before giving up: about a millisecond.
const NESTED_ROUNDS: u32 = 64;

/// Backoff rounds (1, 2, 4, ... pauses: 255 in all) a waiter spins before it sleeps,
/// when the platform can put it to sleep.
const SPIN_ROUNDS: u32 = 8;

/// How the platform puts a waiter to sleep and wakes it (a futex on Linux).
#[derive(Debug)]
pub struct WaitSource {
    /// Sleeps while `*word == expected` (may return early, spuriously); must be
    /// async-signal-safe and must not take any lock of this module.
    pub wait: fn(word: &AtomicU32, expected: u32),
    /// Wakes one thread sleeping in `wait` on `word`.
    pub wake: fn(word: &AtomicU32),
}

/// The platform's sleep and wake (null: waiters spin).
static WAIT_SOURCE: AtomicPtr<WaitSource> = AtomicPtr::new(core::ptr::null_mut());

/// Registers how contended waiters sleep (see the module documentation).
pub fn set_wait_source(source: &'static WaitSource) {
    // Release pairs with the Acquire in `wait_source`: a thread that sees the
    // pointer sees the functions it points to.
    WAIT_SOURCE.store(
        source as *const WaitSource as *mut WaitSource,
        Ordering::Release,
    );
}

fn wait_source() -> Option<&'static WaitSource> {
    // Acquire: see `set_wait_source`.
    let p = WAIT_SOURCE.load(Ordering::Acquire);
    // SAFETY: the only non-null value ever stored is a `&'static WaitSource`.
    (!p.is_null()).then(|| unsafe { &*p })
}

/// Registers the function telling whether the current context runs nested in an
/// interrupted runtime call (async-signal-safe and cheap; asked only when a lock is
/// contended).
pub fn set_nested_source(source: fn() -> bool) {
    // Release pairs with the Acquire in `nested`.
    NESTED_SOURCE.store(source as *mut (), Ordering::Release);
}

fn nested() -> bool {
    // Acquire: see `set_nested_source`.
    let f = NESTED_SOURCE.load(Ordering::Acquire);
    if f.is_null() {
        return false;
    }
    // SAFETY: the only non-null value ever stored is a `fn() -> bool` cast to a
    // pointer in `set_nested_source` (function and data pointers have one size).
    let f: fn() -> bool = unsafe { core::mem::transmute::<*mut (), fn() -> bool>(f) };
    f()
}

/// The context ids of the threads taking every lock before `fork` (0: a free
/// slot). Several threads may fork at once: each holds a part of the locks until
/// it has them all, so each is named (a thread that finds every slot taken is not,
/// and waiters on its locks wait the bounded time).
static FORKING: [AtomicUsize; FORKING_SLOTS] =
    [const { AtomicUsize::new(UNLOCKED) }; FORKING_SLOTS];
const FORKING_SLOTS: usize = 16;

/// Names the thread about to take every lock for `fork` (`Some` of its
/// [`context_id`]), or takes the current thread's name back (`None`, once it
/// released them): nested waiters give up at once on the locks a named thread
/// holds (see the module documentation).
pub fn set_forking(holder: Option<usize>) {
    match holder {
        Some(id) => {
            for slot in &FORKING {
                // SeqCst: published before the forker's first lock, so a nested
                // waiter that finds one of its locks held reads the id (it reads
                // this after the lock word).
                if slot
                    .compare_exchange(UNLOCKED, id, Ordering::SeqCst, Ordering::Relaxed)
                    .is_ok()
                {
                    return;
                }
            }
        }
        None => {
            let me = context_id();
            // SeqCst: as above.
            if let Some(slot) = FORKING.iter().find(|s| s.load(Ordering::SeqCst) == me) {
                slot.store(UNLOCKED, Ordering::SeqCst);
            }
        }
    }
}

/// Forgets every thread named by [`set_forking`] (a forked child: the other
/// forkers were the parent's threads).
pub fn reset_forking() {
    for slot in &FORKING {
        // SeqCst: as in `set_forking`.
        slot.store(UNLOCKED, Ordering::SeqCst);
    }
}

/// Whether `holder` is a thread taking every lock for `fork`.
fn is_forking(holder: usize) -> bool {
    // SeqCst: pairs with the stores in `set_forking`.
    holder != UNLOCKED && FORKING.iter().any(|s| s.load(Ordering::SeqCst) == holder)
}

/// Set while a forked child's fork handler releases the locks its parent held
/// (see [`SpinLock::force_unlock`]).
static FORKED_CHILD: AtomicBool = AtomicBool::new(false);

/// Marks the stretch of a forked child's fork handler in which it releases the
/// locks the parent held across `fork` (the child then has one thread: no lock has a
/// waiter), and its end.
pub fn set_forked_child(on: bool) {
    // Relaxed: set and read by the child's one thread.
    FORKED_CHILD.store(on, Ordering::Relaxed);
}

/// Registers the function naming the current context (on a hosted platform the
/// thread; it must be async-signal-safe, cheap, and give every live thread its own
/// value other than 0 and 1). Until it is set, locks cannot recognise re-entry.
pub fn set_context_source(source: fn() -> usize) {
    // Release pairs with the Acquire in `context_id`: a thread that sees the pointer
    // may call it.
    CONTEXT_SOURCE.store(source as *mut (), Ordering::Release);
}

/// The current context's id, as lock words hold it.
#[inline]
pub fn context_id() -> usize {
    // Acquire: see `set_context_source`.
    let f = CONTEXT_SOURCE.load(Ordering::Acquire);
    if f.is_null() {
        return ANONYMOUS;
    }
    // SAFETY: the only non-null value ever stored is a `fn() -> usize` cast to a
    // pointer in `set_context_source`; function pointers and data pointers have the
    // same size on every target we build for.
    let f: fn() -> usize = unsafe { core::mem::transmute::<*mut (), fn() -> usize>(f) };
    match f() {
        UNLOCKED | ANONYMOUS => ANONYMOUS,
        id => id,
    }
}

/// A spinlock around `T`.
#[derive(Debug, Default)]
pub struct SpinLock<T> {
    /// `UNLOCKED`, or the holder's context id.
    locked: AtomicUsize,
    /// Waiters asleep or about to sleep (see the module documentation).
    waiters: AtomicU32,
    /// Bumped by each release that saw waiters: the word they sleep on.
    seq: AtomicU32,
    value: UnsafeCell<T>,
}

// SAFETY: the lock hands out `&mut T` to one holder at a time, so sharing the lock
// between threads only needs `T: Send`.
unsafe impl<T: Send> Sync for SpinLock<T> {}

impl<T> SpinLock<T> {
    /// A new, unlocked lock.
    pub const fn new(value: T) -> SpinLock<T> {
        SpinLock {
            locked: AtomicUsize::new(UNLOCKED),
            waiters: AtomicU32::new(0),
            seq: AtomicU32::new(0),
            value: UnsafeCell::new(value),
        }
    }

    /// Takes the lock, spinning (with backoff) while another holder has it. A
    /// caller that may run nested in a holder of this lock on the same thread uses
    /// [`SpinLock::lock_unless_held`] instead.
    #[inline]
    pub fn lock(&self) -> SpinGuard<'_, T> {
        let me = context_id();
        loop {
            if let Some(guard) = self.lock_as(me, false) {
                return guard;
            }
            // Held by this very context: nothing but that holder can release it, so
            // waiting would hang; there is nothing better to do than wait as before
            // (callers that can be nested use `lock_unless_held`).
            core::hint::spin_loop();
        }
    }

    /// Takes the lock, waiting while another context holds it; `None` at once if
    /// this context holds it already (a signal handler that interrupted the holder),
    /// and `None` after a bounded wait if this context is nested in an interrupted
    /// runtime call (see the module documentation).
    #[inline]
    pub fn lock_unless_held(&self) -> Option<SpinGuard<'_, T>> {
        self.lock_as(context_id(), true)
    }

    #[inline]
    fn lock_as(&self, me: usize, may_give_up: bool) -> Option<SpinGuard<'_, T>> {
        // Acquire pairs with the Release store in `SpinGuard::drop`: the previous
        // holder's writes to `value` are visible to us.
        if self
            .locked
            .compare_exchange_weak(UNLOCKED, me, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return self.lock_slow(me, may_give_up && nested());
        }
        Some(SpinGuard { lock: self })
    }

    #[cold]
    fn lock_slow(&self, me: usize, bounded: bool) -> Option<SpinGuard<'_, T>> {
        let mut spins = 1u32;
        let mut rounds = 0u32;
        loop {
            loop {
                // Relaxed: only a hint; the CAS below orders.
                match self.locked.load(Ordering::Relaxed) {
                    UNLOCKED => break,
                    holder if holder == me && me != ANONYMOUS => return None,
                    holder if bounded && is_forking(holder) => return None,
                    _ => {}
                }
                if !bounded && rounds >= SPIN_ROUNDS {
                    if let Some(source) = wait_source() {
                        return self.lock_sleeping(me, source);
                    }
                }
                for _ in 0..spins {
                    core::hint::spin_loop();
                }
                spins = (spins * 2).min(1024);
                rounds = rounds.saturating_add(1);
                if bounded && rounds > NESTED_ROUNDS {
                    return None;
                }
            }
            // Acquire: as in `lock_as`.
            if self
                .locked
                .compare_exchange_weak(UNLOCKED, me, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                return Some(SpinGuard { lock: self });
            }
        }
    }

    /// Waits for the lock asleep (see the module documentation); `None` if this
    /// context turns out to hold it.
    #[cold]
    fn lock_sleeping(&self, me: usize, source: &WaitSource) -> Option<SpinGuard<'_, T>> {
        // SeqCst pairs with the SeqCst swap and load in `release`: the releaser sees
        // this waiter counted, or our CAS below sees the lock free.
        self.waiters.fetch_add(1, Ordering::SeqCst);
        let got = loop {
            // SeqCst: read before the CAS, so a release after the CAS changes it.
            let seq = self.seq.load(Ordering::SeqCst);
            // SeqCst: see above; Acquire pairs with the release of the last holder.
            match self
                .locked
                .compare_exchange(UNLOCKED, me, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => break Some(SpinGuard { lock: self }),
                Err(holder) if holder == me && me != ANONYMOUS => break None,
                Err(_) => (source.wait)(&self.seq, seq),
            }
        };
        // Relaxed: only a count; a release that still sees us wakes one spuriously.
        self.waiters.fetch_sub(1, Ordering::Relaxed);
        got
    }

    /// Frees the lock and wakes one sleeping waiter, if any.
    #[inline]
    fn release(&self) {
        // Release pairs with the Acquire in `lock_as`/`try_lock` of the next holder;
        // SeqCst (and on the load) pairs with `lock_sleeping`'s count and CAS.
        self.locked.swap(UNLOCKED, Ordering::SeqCst);
        if self.waiters.load(Ordering::SeqCst) != 0 {
            self.wake_one();
        }
    }

    #[cold]
    fn wake_one(&self) {
        // SeqCst: after the swap in `release`, so a waiter that read the old value
        // sleeps on a word that no longer matches.
        self.seq.fetch_add(1, Ordering::SeqCst);
        if let Some(source) = wait_source() {
            (source.wake)(&self.seq);
        }
    }

    /// Takes the lock only if it is free (for paths that must never wait, such as a
    /// report raised while the same thread holds the lock).
    pub fn try_lock(&self) -> Option<SpinGuard<'_, T>> {
        // Acquire: as in `lock_as`.
        self.locked
            .compare_exchange(UNLOCKED, context_id(), Ordering::Acquire, Ordering::Relaxed)
            .ok()
            .map(|_| SpinGuard { lock: self })
    }

    /// Whether the current context holds the lock (always false before a context
    /// source is registered).
    pub fn held_by_current(&self) -> bool {
        let me = context_id();
        // Relaxed: only this context writes its own id into the word.
        me != ANONYMOUS && self.locked.load(Ordering::Relaxed) == me
    }

    /// Releases a lock whose holder cannot release it (a forked child whose parent
    /// held the lock during `fork`). In a forked child ([`set_forked_child`]) the
    /// waiter count is cleared first: the waiters it counts were the parent's other
    /// threads, which the child does not have, and a stale count would make every
    /// later release of the lock a futex wake for no one.
    ///
    /// # Safety
    ///
    /// No live guard of this lock may be used afterwards.
    pub unsafe fn force_unlock(&self) {
        // Relaxed: set and read by the one thread of a forked child.
        if FORKED_CHILD.load(Ordering::Relaxed) {
            // Relaxed: the child has no other thread to order against.
            self.waiters.store(0, Ordering::Relaxed);
        }
        self.release();
    }
}

/// Proof of holding a [`SpinLock`].
#[derive(Debug)]
pub struct SpinGuard<'a, T> {
    lock: &'a SpinLock<T>,
}

impl<T> Deref for SpinGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard exists only while its holder owns the lock.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> DerefMut for SpinGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard exists only while its holder owns the lock, and `&mut self`
        // makes this the only reference handed out through it.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T> Drop for SpinGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.release();
    }
}

/// A lock that is only ever tried on the hot paths (the per-CPU magazines and
/// quarantine queues, where a held lock sends the caller elsewhere), so nobody
/// sleeps on it and its release is a plain store: one locked instruction per use
/// instead of the two of a [`SpinLock`] (whose release must be a full barrier for
/// its sleeping waiters). [`TryLock::lock`] spins, for the rare callers that must
/// have it (`fork`'s `lock_all`, statistics, tests).
pub struct TryLock<T> {
    /// `UNLOCKED`, or the holder's context id.
    locked: AtomicUsize,
    value: UnsafeCell<T>,
}

// SAFETY: as for `SpinLock`: one holder at a time gets `&mut T`.
unsafe impl<T: Send> Sync for TryLock<T> {}

impl<T: core::fmt::Debug> core::fmt::Debug for TryLock<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TryLock")
            // Relaxed: a snapshot for debugging.
            .field("locked", &(self.locked.load(Ordering::Relaxed) != UNLOCKED))
            .finish_non_exhaustive()
    }
}

impl<T> TryLock<T> {
    /// A new, unlocked lock.
    pub const fn new(value: T) -> TryLock<T> {
        TryLock {
            locked: AtomicUsize::new(UNLOCKED),
            value: UnsafeCell::new(value),
        }
    }

    /// Takes the lock only if it is free.
    #[inline]
    pub fn try_lock(&self) -> Option<TryGuard<'_, T>> {
        // Acquire pairs with the Release store of the last holder's `TryGuard::drop`.
        self.locked
            .compare_exchange(UNLOCKED, context_id(), Ordering::Acquire, Ordering::Relaxed)
            .ok()
            .map(|_| TryGuard { lock: self })
    }

    /// Takes the lock, spinning while another context holds it; `None` if this
    /// context holds it already (a signal handler that interrupted its holder).
    pub fn lock_unless_held(&self) -> Option<TryGuard<'_, T>> {
        let mut spins = 0u32;
        loop {
            if let Some(g) = self.try_lock() {
                return Some(g);
            }
            if self.held_by_current() {
                return None;
            }
            spins = spins.saturating_add(1);
            for _ in 0..spins.min(64) {
                core::hint::spin_loop();
            }
        }
    }

    /// Takes the lock, spinning while it is held (the holder is in a short critical
    /// section: nobody sleeps holding it).
    pub fn lock(&self) -> TryGuard<'_, T> {
        loop {
            if let Some(g) = self.try_lock() {
                return g;
            }
            core::hint::spin_loop();
        }
    }

    /// Whether the current context holds the lock.
    pub fn held_by_current(&self) -> bool {
        let me = context_id();
        // Relaxed: only this context writes its own id into the word.
        me != ANONYMOUS && self.locked.load(Ordering::Relaxed) == me
    }

    /// Releases a lock whose holder cannot release it (a forked child whose parent
    /// held it during `fork`).
    ///
    /// # Safety
    ///
    /// No live guard of this lock may be used afterwards.
    pub unsafe fn force_unlock(&self) {
        // Release pairs with the next holder's Acquire CAS.
        self.locked.store(UNLOCKED, Ordering::Release);
    }
}

/// The holder's access to a [`TryLock`]'s value; dropping it releases the lock.
#[derive(Debug)]
pub struct TryGuard<'a, T> {
    lock: &'a TryLock<T>,
}

impl<T> Deref for TryGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard exists only while its holder owns the lock.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> DerefMut for TryGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard exists only while its holder owns the lock, and `&mut self`
        // makes this the only reference handed out through it.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T> Drop for TryGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        // Release pairs with the next holder's Acquire CAS in `try_lock`. No waiter
        // sleeps on a TryLock, so there is nobody to wake and no full barrier.
        self.lock.locked.store(UNLOCKED, Ordering::Release);
    }
}

/// `T` alone on its cache line(s): for data that different CPUs write often, so
/// that writing it does not invalidate what sits next to it.
#[derive(Debug, Default)]
#[repr(align(64))]
pub struct CachePadded<T>(pub T);

impl<T> Deref for CachePadded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thread_id() -> usize {
        std::thread_local!(static HERE: u8 = const { 0 });
        HERE.with(|h| h as *const u8 as usize)
    }

    #[test]
    fn try_lock_excludes_and_its_plain_release_publishes() {
        set_context_source(thread_id);
        let lock = std::sync::Arc::new(TryLock::new(0u64));
        {
            let _g = lock.try_lock().unwrap();
            assert!(lock.held_by_current());
            assert!(lock.try_lock().is_none());
            assert!(lock.lock_unless_held().is_none());
        }
        assert!(!lock.held_by_current());
        // Four threads adding under try_lock (retrying when it is held): no increment
        // is lost, so each release published its holder's write.
        let threads: std::vec::Vec<_> = (0..4)
            .map(|_| {
                let lock = lock.clone();
                std::thread::spawn(move || {
                    let mut done = 0;
                    while done < 100_000 {
                        if let Some(mut g) = lock.try_lock() {
                            *g += 1;
                            done += 1;
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(*lock.lock(), 400_000);
    }

    #[test]
    fn nested_holder_is_recognised_and_others_wait() {
        set_context_source(thread_id);
        let lock = std::sync::Arc::new(SpinLock::new(0u32));
        let g = lock.lock();
        assert!(lock.held_by_current());
        // The same context asking again is told at once instead of spinning.
        assert!(lock.lock_unless_held().is_none());
        assert!(lock.try_lock().is_none());
        let other = {
            let lock = lock.clone();
            std::thread::spawn(move || {
                assert!(!lock.held_by_current());
                *lock
                    .lock_unless_held()
                    .expect("another thread waits, then gets it") += 1;
            })
        };
        std::thread::sleep(std::time::Duration::from_millis(20));
        drop(g);
        other.join().unwrap();
        assert_eq!(*lock.lock_unless_held().unwrap(), 1);
        assert!(!lock.held_by_current());
    }

    std::thread_local! {
        /// Whether this test thread plays a signal handler nested in a runtime call.
        static NESTED: core::cell::Cell<bool> = const { core::cell::Cell::new(false) };
    }

    fn nested_here() -> bool {
        NESTED.with(|n| n.get())
    }

    #[test]
    fn nested_waiters_give_up_at_once_on_locks_the_forking_thread_holds() {
        set_context_source(thread_id);
        set_nested_source(nested_here);
        let forker_lock = std::sync::Arc::new(SpinLock::new(0u32));
        let other_lock = std::sync::Arc::new(SpinLock::new(0u32));
        let (held, release) = (
            std::sync::Arc::new(std::sync::Barrier::new(2)),
            std::sync::Arc::new(std::sync::Barrier::new(2)),
        );
        // One thread holds a lock as a plain holder, the other as the forker.
        let holder = |lock: std::sync::Arc<SpinLock<u32>>, forking: bool| {
            let (held, release) = (held.clone(), release.clone());
            std::thread::spawn(move || {
                let g = lock.lock();
                if forking {
                    set_forking(Some(context_id()));
                }
                held.wait();
                release.wait();
                if forking {
                    set_forking(None);
                }
                drop(g);
            })
        };
        let f = holder(forker_lock.clone(), true);
        held.wait();
        NESTED.with(|n| n.set(true));
        // The quickest of a few tries, so that a preemption does not count.
        let at_once = (0..5)
            .map(|_| {
                let t0 = std::time::Instant::now();
                assert!(forker_lock.lock_unless_held().is_none());
                t0.elapsed()
            })
            .min()
            .unwrap();
        NESTED.with(|n| n.set(false));
        release.wait();
        f.join().unwrap();
        let o = holder(other_lock.clone(), false);
        held.wait();
        NESTED.with(|n| n.set(true));
        let t0 = std::time::Instant::now();
        assert!(other_lock.lock_unless_held().is_none());
        let bounded = t0.elapsed();
        NESTED.with(|n| n.set(false));
        release.wait();
        o.join().unwrap();
        // The bounded wait is some 64 rounds of up to 1024 pauses; giving up on the
        // forker's lock takes no round at all.
        assert!(
            at_once * 4 < bounded,
            "forker's lock {at_once:?}, another holder's {bounded:?}"
        );
        // Not nested, a waiter still gets the forker's lock once it is released.
        assert_eq!(*forker_lock.lock_unless_held().unwrap(), 0);
    }

    #[test]
    fn every_thread_forking_at_once_is_named_and_takes_back_only_its_own_name() {
        set_context_source(thread_id);
        let (named, done) = (
            std::sync::Arc::new(std::sync::Barrier::new(2)),
            std::sync::Arc::new(std::sync::Barrier::new(2)),
        );
        let other = {
            let (named, done) = (named.clone(), done.clone());
            std::thread::spawn(move || {
                set_forking(Some(context_id()));
                named.wait();
                done.wait();
                let me = context_id();
                set_forking(None);
                (me, is_forking(me))
            })
        };
        set_forking(Some(context_id()));
        named.wait();
        let me = context_id();
        // Both forkers are named at once (one word would have kept the last).
        assert!(is_forking(me));
        done.wait();
        let (them, still) = other.join().unwrap();
        assert!(!still, "the other forker's name is gone with it");
        assert!(is_forking(me), "and this one's is not");
        assert!(!is_forking(them));
        set_forking(None);
        assert!(!is_forking(me));
    }

    static WAITS: AtomicUsize = AtomicUsize::new(0);

    /// A sleep that yields until the word changes, counting its calls.
    fn yield_wait(word: &AtomicU32, expected: u32) {
        WAITS.fetch_add(1, Ordering::Relaxed);
        for _ in 0..1000 {
            if word.load(Ordering::SeqCst) != expected {
                return;
            }
            std::thread::yield_now();
        }
    }

    fn no_wake(_: &AtomicU32) {}

    static YIELD: WaitSource = WaitSource {
        wait: yield_wait,
        wake: no_wake,
    };

    #[test]
    fn force_unlock_in_a_forked_child_forgets_the_waiters() {
        let lock = SpinLock::new(0u32);
        core::mem::forget(lock.lock());
        // Two threads of the parent were waiting when it forked.
        lock.waiters.store(2, Ordering::Relaxed);
        set_forked_child(true);
        // SAFETY: the guard was forgotten; nothing uses it.
        unsafe { lock.force_unlock() };
        set_forked_child(false);
        assert_eq!(lock.waiters.load(Ordering::Relaxed), 0);
        assert!(lock.try_lock().is_some());
        // In the parent the waiters are real and stay counted.
        core::mem::forget(lock.lock());
        lock.waiters.store(1, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { lock.force_unlock() };
        assert_eq!(lock.waiters.load(Ordering::Relaxed), 1);
        lock.waiters.store(0, Ordering::Relaxed);
    }

    #[test]
    fn contended_waiters_sleep_and_none_is_lost() {
        set_context_source(thread_id);
        set_wait_source(&YIELD);
        let lock = std::sync::Arc::new(SpinLock::new(0u64));
        // Eight threads on however few CPUs: a holder preempted mid-section makes the
        // others sleep; every increment must land and every waiter get through.
        let threads: std::vec::Vec<_> = (0..8)
            .map(|_| {
                let lock = lock.clone();
                std::thread::spawn(move || {
                    for _ in 0..20_000 {
                        let mut g = lock.lock_unless_held().expect("not nested");
                        *g += 1;
                        if (*g).is_multiple_of(512) {
                            // Hold it long enough that the waiters give up spinning.
                            std::thread::sleep(std::time::Duration::from_micros(200));
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(*lock.lock(), 8 * 20_000);
        assert!(WAITS.load(Ordering::Relaxed) > 0, "no waiter slept");
        assert_eq!(lock.waiters.load(Ordering::Relaxed), 0);
    }
}
