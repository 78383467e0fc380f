//! The one lock primitive the core and the allocators use: a test-and-set spinlock
//! that works before any OS service exists and in any context (no allocation, no
//! blocking call). Critical sections are kept to a few hundred instructions.
#![allow(unsafe_code)]

use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicBool, Ordering};

/// A spinlock around `T`.
#[derive(Debug, Default)]
pub struct SpinLock<T> {
    locked: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: the lock hands out `&mut T` to one holder at a time, so sharing the lock
// between threads only needs `T: Send`.
unsafe impl<T: Send> Sync for SpinLock<T> {}

impl<T> SpinLock<T> {
    /// A new, unlocked lock.
    pub const fn new(value: T) -> SpinLock<T> {
        SpinLock {
            locked: AtomicBool::new(false),
            value: UnsafeCell::new(value),
        }
    }

    /// Takes the lock, spinning (with backoff) while another holder has it.
    #[inline]
    pub fn lock(&self) -> SpinGuard<'_, T> {
        // Acquire pairs with the Release store in `SpinGuard::drop`: the previous
        // holder's writes to `value` are visible to us.
        if self
            .locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            self.lock_slow();
        }
        SpinGuard { lock: self }
    }

    #[cold]
    fn lock_slow(&self) {
        let mut spins = 1u32;
        loop {
            while self.locked.load(Ordering::Relaxed) {
                for _ in 0..spins {
                    core::hint::spin_loop();
                }
                spins = (spins * 2).min(1024);
            }
            // Acquire: as in `lock`.
            if self
                .locked
                .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                return;
            }
        }
    }

    /// Takes the lock only if it is free (for paths that must never wait, such as a
    /// report raised while the same thread holds the lock).
    pub fn try_lock(&self) -> Option<SpinGuard<'_, T>> {
        // Acquire: as in `lock`.
        self.locked
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .ok()
            .map(|_| SpinGuard { lock: self })
    }

    /// Releases a lock whose holder cannot release it (a forked child whose parent
    /// held the lock during `fork`).
    ///
    /// # Safety
    ///
    /// No live guard of this lock may be used afterwards.
    pub unsafe fn force_unlock(&self) {
        // Release: as in `SpinGuard::drop`.
        self.locked.store(false, Ordering::Release);
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
        // Release pairs with the Acquire in `lock`/`try_lock` of the next holder.
        self.lock.locked.store(false, Ordering::Release);
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
