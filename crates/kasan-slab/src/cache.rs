//! Slab cache descriptors: what a cache's objects look like (size, alignment,
//! redzone, constructor, flags) and its lists of runs. The heap keeps a fixed table
//! of them: the kmalloc caches first, then the caches programs create.
//!
//! A descriptor's configuration is written once while the slot is claimed and only
//! read after it is published (Release/Acquire on the slot state), so readers never
//! lock for it.
//!
//! # Safety
//!
//! The configuration cell is written only by the thread that moved the slot from
//! `EMPTY` to `WRITING`, and read only after an Acquire load sees `LIVE`.
#![allow(unsafe_code)]

use core::cell::UnsafeCell;
use core::ffi::c_void;
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

use kasan_core::report::Name;
use kasan_core::sync::SpinLock;

use crate::heap::{optimal_redzone, MIN_ALIGN};
use crate::pages::{header_size, PAGE_SIZE};

/// A constructor, called on each object when its run is made.
pub type Ctor = unsafe extern "C" fn(*mut c_void);

/// Align objects to the cache line (Linux's `SLAB_HWCACHE_ALIGN`).
pub const SLAB_HWCACHE_ALIGN: u32 = 0x0000_2000;
/// Freed objects may be reused at once as the same type (Linux's
/// `SLAB_TYPESAFE_BY_RCU`): KASAN neither poisons nor quarantines them on free.
pub const SLAB_TYPESAFE_BY_RCU: u32 = 0x0008_0000;
/// Memory-cgroup accounting (accepted; nothing to account here).
pub const SLAB_ACCOUNT: u32 = 0x0400_0000;
const CACHE_LINE: usize = 64;

/// A cache's fixed shape.
#[derive(Debug, Clone, Copy)]
pub struct CacheConfig {
    /// The cache's name, as reports print it.
    pub name: Name,
    /// The object size reports print ("of size N") and `ksize` returns.
    pub object_size: usize,
    /// Object alignment.
    pub align: usize,
    /// Bytes from one object to the next (object, redzone, padding).
    pub slot: usize,
    /// Objects in a run.
    pub nobj: usize,
    /// Pages in a run.
    pub pages: usize,
    /// Offset of the first object in a run (after the header).
    pub first: usize,
    /// The constructor, if any.
    pub ctor: Option<Ctor>,
    /// `SLAB_*` flags.
    pub flags: u32,
}

impl CacheConfig {
    /// Lays out a cache of `object_size`-byte objects aligned to `align` (0: the
    /// minimum), with KASAN's redzone after each; `None` for impossible shapes.
    pub fn new(
        name: &str,
        object_size: usize,
        align: usize,
        flags: u32,
        ctor: Option<Ctor>,
    ) -> Option<CacheConfig> {
        if object_size == 0 || object_size > (32 << 20) {
            return None;
        }
        let mut align = align.max(MIN_ALIGN);
        if flags & SLAB_HWCACHE_ALIGN != 0 {
            align = align.max(CACHE_LINE);
        }
        if !align.is_power_of_two() || align > PAGE_SIZE {
            return None;
        }
        let slot = (object_size + optimal_redzone(object_size)).next_multiple_of(align);
        // At least 16 objects and 16 KiB a run, so runs amortise their header.
        let objects_pages = (slot * 16).max(16 << 10).div_ceil(PAGE_SIZE);
        let nobj = objects_pages * PAGE_SIZE / slot;
        let first = header_size(nobj).next_multiple_of(PAGE_SIZE);
        Some(CacheConfig {
            name: Name::new(name),
            object_size,
            align,
            slot,
            nobj,
            pages: first / PAGE_SIZE + objects_pages,
            first,
            ctor,
            flags,
        })
    }

    /// Runs the constructor on the object at `object` (unpoisoned by the caller).
    pub fn construct(&self, object: usize) {
        if let Some(ctor) = self.ctor {
            // SAFETY: the cache's creator registered `ctor` to initialise objects of
            // this cache; `object` is one, writable for `object_size` bytes.
            unsafe { ctor(object as *mut c_void) };
        }
    }

    /// Whether freed objects stay valid (no poison, no quarantine).
    pub fn typesafe_by_rcu(&self) -> bool {
        self.flags & SLAB_TYPESAFE_BY_RCU != 0
    }
}

/// A cache's run lists (under its lock).
#[derive(Debug, Default)]
pub struct Lists {
    /// Runs with at least one free slot, linked through their headers.
    pub partial: usize,
    /// One wholly free run kept back to avoid churn.
    pub spare: usize,
}

const EMPTY: u8 = 0;
const WRITING: u8 = 1;
const LIVE: u8 = 2;

/// One slot of the heap's cache table.
#[derive(Debug)]
pub struct CacheSlot {
    state: AtomicU8,
    config: UnsafeCell<MaybeUninit<CacheConfig>>,
    /// The run lists.
    pub lists: SpinLock<Lists>,
    /// Objects allocated and not yet freed.
    pub live: AtomicUsize,
}

// SAFETY: the configuration cell is written only by the claiming thread before the
// Release that publishes it, and read only after the matching Acquire (module docs);
// everything else is atomics or behind a lock.
unsafe impl Sync for CacheSlot {}

impl Default for CacheSlot {
    fn default() -> Self {
        Self::new()
    }
}

impl CacheSlot {
    /// An empty slot.
    pub const fn new() -> CacheSlot {
        CacheSlot {
            state: AtomicU8::new(EMPTY),
            config: UnsafeCell::new(MaybeUninit::uninit()),
            lists: SpinLock::new(Lists {
                partial: 0,
                spare: 0,
            }),
            live: AtomicUsize::new(0),
        }
    }

    /// The configuration, if the slot holds a live cache.
    #[inline]
    pub fn config(&self) -> Option<&CacheConfig> {
        // Acquire pairs with the Release in `claim`: the configuration is written.
        if self.state.load(Ordering::Acquire) != LIVE {
            return None;
        }
        // SAFETY: LIVE was observed with Acquire, so the write in `claim` is visible
        // and no write happens while the slot stays LIVE.
        Some(unsafe { (*self.config.get()).assume_init_ref() })
    }

    /// Makes this empty slot hold `config`; false if it is taken.
    pub fn claim(&self, config: CacheConfig) -> bool {
        if self
            .state
            .compare_exchange(EMPTY, WRITING, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return false;
        }
        // SAFETY: moving the slot to WRITING gave this thread sole access to the cell.
        unsafe { (*self.config.get()).write(config) };
        self.live.store(0, Ordering::Relaxed);
        // Release pairs with the Acquire in `config`.
        self.state.store(LIVE, Ordering::Release);
        true
    }

    /// Empties the slot; its runs must all have been returned.
    pub fn retire(&self) {
        self.state.store(EMPTY, Ordering::Release);
    }
}
