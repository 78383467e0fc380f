//! Slab cache descriptors: what a cache's objects look like (size, alignment,
//! redzone, constructor, flags) and its lists of runs. The heap keeps them in a
//! table that grows without limit: the kmalloc caches first, then the caches
//! programs create.
//!
//! ```text
//!  table:   segment 0 (512 slots, inline) | segment 1 (1024, mapped on demand) | 2 (2048) ...
//!  slot:    EMPTY -> WRITING -> LIVE -> DEAD (destroyed, runs still holding
//!           quarantined objects) -> EMPTY (last run given back)
//! ```
//!
//! A descriptor's configuration is written once while the slot is claimed and only
//! read after it is published (Release/Acquire on the slot state), so readers never
//! lock for it. Segments are published once (Release/Acquire on the segment
//! pointer), so lookups never lock either.
//!
//! # Safety
//!
//! The configuration cell is written only by the thread that moved the slot from
//! `EMPTY` to `WRITING`, and read only after an Acquire load sees `LIVE` or `DEAD`;
//! it is not written again until the slot is `EMPTY`, which happens only when no
//! run of the cache is left (so no object, and no report about one, refers to it).
//! Segment memory comes from the host zeroed and is never given back; an all-zero
//! [`CacheSlot`] is an empty one.
//!
//! # Per-CPU object caches
//!
//! In front of the kmalloc classes sit per-CPU magazines ([`CpuCache`], Bonwick's
//! magazines; the role of Linux SLUB's per-CPU slabs): a stack of free objects per
//! class per CPU slot, so the common allocation and release touch no shared lock.
//!
//! ```text
//!  CPU slot 0: [kmalloc-8: a b c .] [kmalloc-16: .] ... [kmalloc-8k: x .]
//!  CPU slot 1: [kmalloc-8: d . . .] ...
//!       empty -> refill cap/2 objects from the class's runs under its lock (one batch)
//!       full  -> flush the oldest cap/2 back to their runs under its lock (one batch)
//! ```
//!
//! An object in a magazine is free to the program (its state is `Free`, its free
//! track kept, so freeing it again is a double free) but still counted in its run's
//! `in_use`, so the run is never given back under it. Magazines belong to CPU slots,
//! not threads: a thread that exits leaves nothing behind, and a forked child
//! inherits them whole (their locks are part of the heap's fork locking).

use core::cell::UnsafeCell;
use core::ffi::c_void;
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicPtr, AtomicU32, AtomicU8, AtomicUsize, Ordering};

use kasan_core::mode::TagPolicy;
use kasan_core::report::Name;
use kasan_core::sync::SpinLock;

use crate::heap::{optimal_redzone, KMALLOC_CACHES, MIN_ALIGN};
use crate::pages::{extra_info, header_size, PAGE_SIZE};

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
    /// Whether runs keep the CPU and time of each allocation and free
    /// ([`crate::pages::ObjInfo`], `kasan.extra_info`).
    pub info: bool,
}

impl CacheConfig {
    /// Lays out a cache of `object_size`-byte objects aligned to `align` (0: the
    /// minimum), with KASAN's redzone after each when `redzones` (generic mode; tag
    /// modes have none); `None` for impossible shapes.
    pub fn new(
        name: &str,
        object_size: usize,
        align: usize,
        flags: u32,
        ctor: Option<Ctor>,
        redzones: bool,
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
        let redzone = if redzones {
            optimal_redzone(object_size)
        } else {
            0
        };
        let slot = (object_size + redzone).next_multiple_of(align);
        // At least 16 objects and 16 KiB a run, so runs amortise their header.
        let objects_pages = (slot * 16).max(16 << 10).div_ceil(PAGE_SIZE);
        let nobj = objects_pages * PAGE_SIZE / slot;
        let info = extra_info();
        let first = header_size(nobj, info).next_multiple_of(PAGE_SIZE);
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
            info,
        })
    }

    /// The shape of this cache's runs.
    pub fn shape(&self) -> crate::pages::RunShape {
        crate::pages::RunShape {
            pages: self.pages,
            nobj: self.nobj,
            first: self.first,
            slot: self.slot,
            info: self.info,
        }
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

    /// How the cache's objects get their tag (Linux's `assign_tag`): a cache with a
    /// constructor or `SLAB_TYPESAFE_BY_RCU` keeps each slot's tag from slab creation,
    /// so pointers kept across a free stay valid.
    pub fn tag_policy(&self) -> TagPolicy {
        if self.ctor.is_some() || self.typesafe_by_rcu() {
            TagPolicy::KeptFromSlabInit
        } else {
            TagPolicy::FreshEachAlloc
        }
    }
}

/// Per-CPU slots of magazines (CPUs beyond this share them, by CPU number modulo; a
/// slot another thread holds sends the call to the shared path, so sharing is only
/// slower). 8: each slot is 3.4 KiB of every heap static, which sits in `.data` (the
/// heap has non-zero fields), and a statically linked program may grow by 2 MB at most.
pub const MAG_CPUS: usize = 8;
/// Most objects a magazine holds.
pub const MAG_MAX: usize = 32;
/// Fewest objects a magazine holds (the largest classes).
const MAG_MIN: usize = 4;
/// Bytes of slots a magazine may hold, which sets its capacity per class.
const MAG_BYTES: usize = 32 << 10;

/// The capacity of a magazine of slots `slot` bytes apart (even, so a refill and
/// a flush move half).
pub const fn magazine_capacity(slot: usize) -> usize {
    let n = MAG_BYTES / if slot == 0 { 1 } else { slot };
    let n = if n < MAG_MIN {
        MAG_MIN
    } else if n > MAG_MAX {
        MAG_MAX
    } else {
        n
    };
    n & !1
}

/// One class's magazine on one CPU slot: free objects, newest on top.
#[derive(Debug, Clone, Copy)]
pub struct Magazine {
    /// Objects held (`objs[..n]`).
    pub n: usize,
    /// Untagged object addresses.
    pub objs: [usize; MAG_MAX],
}

/// One CPU slot's magazines, one per kmalloc class.
#[derive(Debug)]
pub struct CpuCache {
    /// Indexed by kmalloc class.
    pub mags: [Magazine; KMALLOC_CACHES],
    /// Objects handed out from these magazines less those released into them
    /// (wrapping; the heap's live count adds them up).
    pub live: usize,
}

impl CpuCache {
    /// Empty magazines.
    pub const fn new() -> CpuCache {
        CpuCache {
            mags: [Magazine {
                n: 0,
                objs: [0; MAG_MAX],
            }; KMALLOC_CACHES],
            live: 0,
        }
    }
}

impl Default for CpuCache {
    fn default() -> Self {
        Self::new()
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
const DEAD: u8 = 3;

/// One slot of the heap's cache table.
#[derive(Debug)]
pub struct CacheSlot {
    state: AtomicU8,
    config: UnsafeCell<MaybeUninit<CacheConfig>>,
    /// The run lists.
    pub lists: SpinLock<Lists>,
    /// Objects allocated and not yet freed (changed under the lock).
    pub live: AtomicUsize,
    /// Runs the cache owns (changed under the lock).
    pub runs: AtomicUsize,
    /// Bumped each time the slot is claimed, so a handle to a destroyed cache never
    /// names the cache that reuses its slot.
    pub generation: AtomicU32,
    /// Objects released while this thread held the lock (a signal handler that
    /// interrupted the cache), linked through their metadata, put back by the next
    /// holder of the lock. Pushed lock-free; taken whole under the lock.
    pub deferred: AtomicUsize,
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
            runs: AtomicUsize::new(0),
            generation: AtomicU32::new(0),
            deferred: AtomicUsize::new(0),
        }
    }

    /// The configuration, if the slot holds a cache (live, or destroyed with runs
    /// left).
    #[inline]
    pub fn config(&self) -> Option<&CacheConfig> {
        // Acquire pairs with the Release in `claim`: the configuration is written.
        match self.state.load(Ordering::Acquire) {
            LIVE | DEAD => {}
            _ => return None,
        }
        // SAFETY: LIVE or DEAD was observed with Acquire, so the write in `claim` is
        // visible, and no write happens before the slot is EMPTY again (module docs).
        Some(unsafe { (*self.config.get()).assume_init_ref() })
    }

    /// Whether the slot holds a live cache of generation `generation`.
    #[inline]
    pub fn is_live(&self, generation: u32) -> bool {
        // Acquire: as in `config`.
        self.state.load(Ordering::Acquire) == LIVE
            && self.generation.load(Ordering::Relaxed) == generation
    }

    /// Whether the slot holds a destroyed cache whose runs are not all back.
    pub fn is_dead(&self) -> bool {
        // Relaxed: changed under the lock, which callers hold.
        self.state.load(Ordering::Relaxed) == DEAD
    }

    /// Makes this empty slot hold `config`; its generation if it was free.
    pub fn claim(&self, config: CacheConfig) -> Option<u32> {
        // Relaxed pre-check: most slots scanned are taken.
        if self.state.load(Ordering::Relaxed) != EMPTY
            || self
                .state
                .compare_exchange(EMPTY, WRITING, Ordering::Acquire, Ordering::Relaxed)
                .is_err()
        {
            return None;
        }
        // SAFETY: moving the slot to WRITING gave this thread sole access to the cell.
        unsafe { (*self.config.get()).write(config) };
        self.live.store(0, Ordering::Relaxed);
        self.runs.store(0, Ordering::Relaxed);
        let generation = self.generation.load(Ordering::Relaxed).wrapping_add(1);
        self.generation.store(generation, Ordering::Relaxed);
        // Release pairs with the Acquire in `config`.
        self.state.store(LIVE, Ordering::Release);
        Some(generation)
    }

    /// Marks a live cache destroyed (under its lock): no allocation succeeds any
    /// more; its configuration stays readable while runs are left.
    pub fn kill(&self) {
        // Release: as in `claim` (readers of DEAD read the configuration too).
        self.state.store(DEAD, Ordering::Release);
    }

    /// Empties a destroyed slot whose last run has been given back (under its lock).
    pub fn retire(&self) {
        // Release pairs with the Acquire CAS in `claim`: our reads of the old
        // configuration happen before the next claimer writes it.
        self.state.store(EMPTY, Ordering::Release);
    }
}

/// Slots in the first (inline) segment; segment `k` holds `FIRST << k`.
pub const FIRST_SEGMENT: usize = 512;
/// Segments: enough for half a billion caches.
const SEGMENTS: usize = 20;

/// The heap's cache table: index -> slot without locks, grown by segments.
pub struct CacheTable {
    first: [CacheSlot; FIRST_SEGMENT],
    /// Segments 1.. (segment 0 is `first`); null until mapped.
    more: [AtomicPtr<CacheSlot>; SEGMENTS],
    /// Serialises mapping segments.
    grow: SpinLock<()>,
}

impl core::fmt::Debug for CacheTable {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CacheTable").finish_non_exhaustive()
    }
}

impl Default for CacheTable {
    fn default() -> Self {
        Self::new()
    }
}

/// The segment and offset of slot `index`.
#[inline]
fn locate(index: usize) -> (usize, usize) {
    // Segment k starts at FIRST * (2^k - 1).
    let k = (index / FIRST_SEGMENT + 1).ilog2() as usize;
    (k, index - FIRST_SEGMENT * ((1 << k) - 1))
}

impl CacheTable {
    /// A table with its first segment and nothing mapped.
    pub const fn new() -> CacheTable {
        CacheTable {
            first: [const { CacheSlot::new() }; FIRST_SEGMENT],
            more: [const { AtomicPtr::new(core::ptr::null_mut()) }; SEGMENTS],
            grow: SpinLock::new(()),
        }
    }

    /// The slot at `index`, if its segment exists.
    #[inline]
    pub fn get(&self, index: usize) -> Option<&CacheSlot> {
        if index < FIRST_SEGMENT {
            return Some(&self.first[index]);
        }
        let (k, off) = locate(index);
        // Acquire pairs with the Release in `segment`: the segment's memory is
        // zeroed (empty slots) before the pointer is seen.
        let seg = self.more.get(k)?.load(Ordering::Acquire);
        if seg.is_null() {
            return None;
        }
        // SAFETY: a published segment holds `FIRST_SEGMENT << k` slots and `off` is
        // below that (`locate`); segments are never unmapped.
        Some(unsafe { &*seg.add(off) })
    }

    /// Slot `index`, mapping its segment with `map` (zeroed memory of the bytes
    /// asked for) if needed; `None` if the table is full or `map` fails.
    pub fn get_or_grow(
        &self,
        index: usize,
        map: impl FnOnce(usize) -> Option<usize>,
    ) -> Option<&CacheSlot> {
        if let Some(slot) = self.get(index) {
            return Some(slot);
        }
        let (k, _) = locate(index);
        if k >= SEGMENTS {
            return None;
        }
        {
            let _grow = self.grow.lock_unless_held()?;
            // Relaxed: segments are published under `grow`, which we hold.
            if self.more[k].load(Ordering::Relaxed).is_null() {
                let bytes = (FIRST_SEGMENT << k) * core::mem::size_of::<CacheSlot>();
                let mem = map(bytes)?;
                if mem == 0 || mem % core::mem::align_of::<CacheSlot>() != 0 {
                    return None;
                }
                // Release pairs with the Acquire in `get`.
                self.more[k].store(mem as *mut CacheSlot, Ordering::Release);
            }
        }
        self.get(index)
    }

    /// Takes the growth lock and keeps it (before `fork`).
    pub fn lock_all(&self) {
        core::mem::forget(self.grow.lock());
    }

    /// Releases the lock taken by [`CacheTable::lock_all`].
    ///
    /// # Safety
    ///
    /// The caller must hold it through `lock_all`.
    pub unsafe fn unlock_all(&self) {
        // SAFETY: forwarded from the caller.
        unsafe { self.grow.force_unlock() };
    }

    /// Every mapped slot, in index order.
    pub fn slots(&self) -> impl Iterator<Item = &CacheSlot> {
        (0..).map_while(move |i| self.get(i))
    }
}
