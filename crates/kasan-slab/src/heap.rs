//! Allocators over the page arena, all with KASAN's hooks: slab caches (Linux's
//! kmalloc size classes and caches programs create), page-backed large kmalloc
//! objects, page-allocator blocks, vmalloc areas with guard pages, mempool support,
//! alloc/free tracks, and the quarantine. The heap is generic over the [`Mode`]: what
//! differs (redzones, quarantine, where tracks go, tags) is behind its constants and
//! hooks, never a run-time flag.
//!
//! Shadow life of a slab slot (generic mode):
//!
//! ```text
//!  run created      | SLAB_REDZONE ................................ |
//!  kmalloc(13)      | 00 05 | SLAB_REDZONE (rest of object + redzone) |
//!  kfree            | FA | SLAB_FREE (object) | SLAB_REDZONE (redzone) |
//!  out of quarantine| SLAB_FREE (object) ...  (until handed out again)
//! ```
//!
//! As Linux's generic mode, a freed slab object's first shadow byte is
//! `SLAB_FREE_META` (0xFA, Linux's `KASAN_SLAB_FREETRACK`: `kasan_save_free_info`
//! marks the free meta valid) while it waits in the quarantine or in a mempool, and
//! `SLAB_FREE` again when the quarantine lets it go (`qlink_free`).
//!
//! Page-backed objects: `| header page (redzone) | object | tail redzone |`, the
//! tail being `PAGE_REDZONE` (large kmalloc) or `VMALLOC_INVALID` plus an
//! inaccessible guard page (vmalloc). Freed: `PAGE_FREE` (vmalloc: `VMALLOC_INVALID`).
//!
//! Tag modes (Linux's sw-tags rules): slots sit back to back without redzones, a
//! pointer carries the slot's tag and memory the same tag per 16-byte granule, every
//! bad byte is the invalid tag; no quarantine; slab alloc/free events go to the stack
//! ring, page-backed blocks keep their allocation track in their metadata:
//!
//! ```text
//!  run created        | ee ee ee ee ...                 (invalid)
//!  kmalloc(20), tag 3 | 03 03 | ee ee (rest of kmalloc-64)
//!  kfree              | ee ee ee ee                     (slot free at once)
//!  kmalloc(40) again  | 09 09 09 | ee  (a new tag, never 3 again at once)
//! ```
//!
//! A free checks the pointer's tag before the slot's state, so a stale pointer to a
//! reused slot is a double free, never a free of the new object. Caches with a
//! constructor or `SLAB_TYPESAFE_BY_RCU` keep each slot's tag from slab creation.
//! Every [`Track`] passed in is consumed exactly once: kept in metadata (generic;
//! page-backed allocations in tag modes), recorded in the ring (tag-mode slab events),
//! or dropped with [`Host::put_stack`] (tag modes: page-backed frees, refused calls).

use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use kasan_core::generic::Generic;
use kasan_core::mode::{BlockKind, FreeCheck, Mode, TagPolicy};
use kasan_core::report::{Backing, Describe, Name, ObjectInfo, PageInfo, PageKind, Track};
use kasan_core::shadow::{Shadow, GRANULE_SIZE};
use kasan_core::shadow_pages::VmallocShadow;
use kasan_core::stack::Handle;
use kasan_core::sync::{CachePadded, TryLock};

use crate::cache::{
    magazine_capacity, CacheConfig, CacheSlot, CacheTable, CpuCache, Ctor, Lists, MAG_CPUS,
};
use crate::pages::{
    is_page_backed, Arenas, ObjMeta, PageError, Run, RunShape, State, WithdrawError, LARGE, PAGES,
    PAGE_SIZE, VMALLOC,
};
use crate::quarantine::Quarantine;

/// What the host provides below the heap.
pub trait Host: Sync {
    /// Gives the memory of `[addr, addr + len)` (whole pages) back; it must read as
    /// zero or keep its contents, either is fine.
    fn discard(&self, addr: usize, len: usize);
    /// Makes whole pages inaccessible (`false`) or accessible again (`true`): the
    /// guard pages after vmalloc areas. A host without an MMU may do nothing.
    fn protect(&self, addr: usize, len: usize, accessible: bool);
    /// The current CPU (picks the quarantine's per-CPU queue).
    fn cpu(&self) -> usize;
    /// Maps `bytes` of zeroed memory, aligned to a page, that stays mapped for the
    /// heap's life (segments of the cache table, the quarantine's batches); `None` if
    /// there is none.
    fn map(&self, bytes: usize) -> Option<usize>;
    /// Nanoseconds since boot: stamped on page-backed allocations and frees whose
    /// track has no time (reports print it as page_owner's `ts`/`free_ts`); 0 when
    /// the host has no clock.
    fn now_ns(&self) -> u64 {
        0
    }
    /// Drops a reference to a stack the heap was given and does not keep (tag modes:
    /// the tracks of page-backed frees and of refused calls, and a page-backed
    /// allocation's track when its pages go back; their stacks are saved with
    /// `SaveFlags::GET`). Generic mode keeps every track and never calls it.
    fn put_stack(&self, _stack: Handle) {}
    /// The on-demand shadow of the vmalloc space, when the host populates it (its
    /// pages are mapped through the mode's [`Mode::shadow_pages`]); `None`: the
    /// vmalloc space's shadow is always mapped.
    fn vmalloc_shadow(&self) -> Option<&VmallocShadow> {
        None
    }
}

/// Pages of freed vmalloc areas held back before their shadow is released and their
/// addresses reused, as Linux's `lazy_max_pages` (32 MiB per log2 of the CPUs; 64
/// MiB here).
pub const LAZY_MAX_PAGES: usize = 16384;

/// Freed vmalloc areas this long (32 KiB, header and guard page included) or longer
/// give their memory back when queued for the purge (Linux frees an area's pages at
/// every `vfree`). Below [`crate::pages::DISCARD_PAGES`] because an area's addresses
/// are not reused until the purge: the memory a small area kept would wait there
/// for 64 MiB of frees, and the next area may land elsewhere (a test_vmalloc run:
/// peak RSS 615 to 514 MB at 64 pages against 8, the times within noise).
pub const VMALLOC_DISCARD_PAGES: usize = 8;

/// The heap's vmalloc state.
#[derive(Debug)]
struct VmallocState {
    /// `kasan.vmalloc`: areas get shadow (off: their shadow stays zero, unchecked).
    checked: AtomicBool,
    /// Freed areas waiting for the purge, linked through `next_partial`.
    lazy: AtomicUsize,
    /// Their pages.
    lazy_pages: AtomicUsize,
}

impl VmallocState {
    const fn new() -> VmallocState {
        VmallocState {
            checked: AtomicBool::new(true),
            lazy: AtomicUsize::new(0),
            lazy_pages: AtomicUsize::new(0),
        }
    }
}

/// Whether an allocation may ask for alignment `align`: a power of two up to 1 GiB.
const fn valid_align(align: usize) -> bool {
    align.is_power_of_two() && align <= 1 << 30
}

/// Linux's `optimal_redzone`: the redzone kept after an object of `size` bytes.
pub const fn optimal_redzone(size: usize) -> usize {
    match size {
        0..=48 => 16,
        49..=96 => 32,
        97..=448 => 64,
        449..=3968 => 128,
        3969..=16128 => 256,
        16129..=32256 => 512,
        32257..=64512 => 1024,
        _ => 2048,
    }
}

/// The kmalloc size classes, as Linux names them.
pub const KMALLOC_SIZES: [usize; 13] = [
    8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192,
];
const KMALLOC_NAMES: [&str; 13] = [
    "kmalloc-8",
    "kmalloc-16",
    "kmalloc-32",
    "kmalloc-64",
    "kmalloc-96",
    "kmalloc-128",
    "kmalloc-192",
    "kmalloc-256",
    "kmalloc-512",
    "kmalloc-1k",
    "kmalloc-2k",
    "kmalloc-4k",
    "kmalloc-8k",
];
/// The kmalloc class of `size` bytes at the minimum alignment: a table for sizes up
/// to 192 (8-byte steps), powers of two above (as Linux's `kmalloc_index`).
#[inline]
fn small_class(size: usize) -> Option<usize> {
    const fn table() -> [u8; 25] {
        let mut t = [0u8; 25];
        let mut i = 0;
        while i < 25 {
            let size = i * 8;
            let mut c = 0;
            while KMALLOC_SIZES[c] < size {
                c += 1;
            }
            t[i] = c as u8;
            i += 1;
        }
        t
    }
    const TABLE: [u8; 25] = table();
    match size {
        0..=192 => Some(TABLE[size.div_ceil(8)] as usize),
        193..=KMALLOC_MAX_CACHE_SIZE => {
            // 256 is class 7; each power of two above is the next class.
            Some(7 + (size.next_power_of_two().trailing_zeros() as usize - 8))
        }
        _ => None,
    }
}

/// Number of kmalloc caches (they occupy the first cache slots).
pub const KMALLOC_CACHES: usize = KMALLOC_SIZES.len();
/// Largest size served by a slab cache (Linux's `KMALLOC_MAX_CACHE_SIZE` with 4K pages).
pub const KMALLOC_MAX_CACHE_SIZE: usize = 8192;
/// Alignment of every object (what `malloc` promises on x86-64).
pub const MIN_ALIGN: usize = 16;
/// Largest request the heap accepts.
pub const MAX_SIZE: usize = 1 << 40;
/// The generation of the kmalloc caches (claimed once, at start-up).
const KMALLOC_GENERATION: u32 = 1;
/// Largest page-allocator order.
pub const MAX_ORDER: u32 = 20;

/// Why an allocation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllocError {
    /// The size, alignment or cache is impossible.
    Invalid,
    /// The arena is full.
    OutOfMemory,
    /// This thread is inside the allocator already, holding a lock the request
    /// needs (a signal handler interrupted it): the request fails, as `GFP_ATOMIC`
    /// may, rather than wait for itself.
    Busy,
    /// The cache has been destroyed.
    Destroyed,
}

impl From<PageError> for AllocError {
    fn from(e: PageError) -> AllocError {
        match e {
            PageError::Full => AllocError::OutOfMemory,
            PageError::Busy => AllocError::Busy,
        }
    }
}

/// A cache made by [`Heap::cache_create`]: its slot and the generation of the slot,
/// so that a handle to a destroyed cache never reaches the cache reusing its slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheId {
    /// The slot in the cache table (what run headers and [`FreeKind::Cache`] name).
    pub index: u32,
    /// The slot's generation when the cache was made.
    pub generation: u32,
}

impl CacheId {
    /// Both fields in one word (for C-side storage).
    pub fn to_bits(self) -> u64 {
        (u64::from(self.generation) << 32) | u64::from(self.index)
    }

    /// The inverse of [`CacheId::to_bits`].
    pub fn from_bits(bits: u64) -> CacheId {
        CacheId {
            index: bits as u32,
            generation: (bits >> 32) as u32,
        }
    }
}

/// Why a free was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FreeError {
    /// Not the start of an object this allocator handed out.
    Invalid,
    /// The object is already free.
    Double,
}

/// Which allocator a free call names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FreeKind {
    /// `kfree`/`free`: any slab object or large kmalloc object.
    Kmalloc,
    /// `kmem_cache_free` on this cache.
    Cache(u32),
    /// `free_pages` of this order.
    Pages(u32),
    /// `vfree`.
    Vmalloc,
}

/// Why a cache could not be destroyed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DestroyError {
    /// Not a live cache made by `cache_create`.
    NoCache,
    /// Objects are still allocated (the cache is left in place, as Linux does).
    LiveObjects(usize),
    /// This thread is inside the cache already (a signal handler interrupted it):
    /// the cache is left in place.
    Busy,
}

/// Statistics for `kasan.stats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeapStats {
    /// Pages in runs.
    pub pages: usize,
    /// Bytes held in quarantine.
    pub quarantine_bytes: usize,
    /// Objects allocated and not yet freed.
    pub live_objects: usize,
}

/// No previous tag to avoid (above every scheme's largest random tag).
const NO_TAG: u8 = u8::MAX;

/// How [`Heap::finish_alloc`] tags an object.
#[derive(Debug, Clone, Copy)]
enum Tagging {
    /// The mode gives it a tag by the cache's policy.
    New(TagPolicy),
    /// Handed out again through this pointer, keeping its tag (a mempool element).
    Keep(usize),
}

/// Whether cache index `cache` is a kmalloc class (never destroyed; served through
/// the per-CPU magazines; its `CacheSlot::live` is not kept).
#[inline]
fn is_kmalloc_class(cache: u32) -> bool {
    (cache as usize) < KMALLOC_CACHES
}

/// The cache index of a run.
#[inline]
fn cache_of(run: Run) -> u32 {
    run.header().cache.load(Ordering::Relaxed)
}

/// The [`BlockKind`] of a run's cache index.
fn block_kind(cache: u32) -> BlockKind {
    match cache {
        LARGE => BlockKind::Large,
        PAGES => BlockKind::Pages,
        VMALLOC => BlockKind::Vmalloc,
        _ => BlockKind::Slab,
    }
}

/// The heap: caches, page-backed objects and the quarantine over one arena, with the
/// hooks of mode `M`: generic (redzones, quarantine, tracks in [`ObjMeta`]) or a tag
/// mode (tagged pointers, no redzone, no quarantine, slab tracks in the stack ring).
///
/// Every address the heap hands out or takes from a caller is as the program holds
/// it (tagged in tag modes); everything inside (runs, metadata, free lists) is
/// untagged.
pub struct Heap<H: Host, M: Mode = Generic> {
    host: H,
    mode: M,
    arenas: Arenas,
    /// vmalloc: checked (`kasan.vmalloc`), the lazy-purge queue.
    vmalloc: VmallocState,
    caches: CacheTable,
    quarantine: Quarantine,
    /// The kmalloc classes' per-CPU magazines (`cache` module docs), each slot on
    /// cache lines of its own.
    percpu: [CachePadded<TryLock<CpuCache>>; MAG_CPUS],
    /// Objects live, counted per CPU slot (every allocation and free writes one, so
    /// one shared counter would bounce between CPUs); a slot's count wraps when its
    /// CPU frees more than it allocated, the sum is exact.
    live: [CachePadded<AtomicUsize>; MAG_CPUS],
    /// What the objects counted in `live` hold ([`Heap::footprint`]), per CPU slot
    /// the same way.
    live_bytes: [CachePadded<AtomicUsize>; MAG_CPUS],
    /// What the objects counted in each magazine slot's `CpuCache::live` hold:
    /// written only under that slot's lock (a load and a store, no locked
    /// instruction), read by anyone without it (the quarantine's bound).
    mag_bytes: [CachePadded<AtomicUsize>; MAG_CPUS],
}

impl<H: Host, M: Mode> core::fmt::Debug for Heap<H, M> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Heap")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

fn pack_info(cpu: u32, time_ns: u64) -> u64 {
    ((cpu as u64 & 0xF_FFFF) << 44) | ((time_ns / 1000) & ((1 << 44) - 1))
}

fn unpack_info(info: u64) -> (u32, u64) {
    ((info >> 44) as u32, (info & ((1 << 44) - 1)) * 1000)
}

impl<H: Host> Heap<H, Generic> {
    /// A generic-mode heap with no memory yet; call [`Heap::init`] before use.
    pub const fn new(host: H, shadow: Shadow) -> Heap<H, Generic> {
        Heap::with_mode(host, Generic { shadow })
    }
}

impl<H: Host, M: Mode> Heap<H, M> {
    /// A heap of mode `mode` with no memory yet; call [`Heap::init`] before use.
    pub const fn with_mode(host: H, mode: M) -> Heap<H, M> {
        Heap {
            host,
            mode,
            arenas: Arenas::new(),
            vmalloc: VmallocState::new(),
            caches: CacheTable::new(),
            quarantine: Quarantine::new(),
            percpu: [const { CachePadded(TryLock::new(CpuCache::new())) }; MAG_CPUS],
            live: [const { CachePadded(AtomicUsize::new(0)) }; MAG_CPUS],
            live_bytes: [const { CachePadded(AtomicUsize::new(0)) }; MAG_CPUS],
            mag_bytes: [const { CachePadded(AtomicUsize::new(0)) }; MAG_CPUS],
        }
    }

    /// Gives the heap its arena and sets up the kmalloc caches.
    ///
    /// # Safety
    ///
    /// As [`Arena::init`]; the arena must also be covered by the heap's shadow.
    pub unsafe fn init(&self, base: usize, size: usize) {
        // SAFETY: forwarded from the caller.
        unsafe { self.arenas.main.init(base, size) };
        for (i, (&size, name)) in KMALLOC_SIZES.iter().zip(KMALLOC_NAMES).enumerate() {
            // Every kmalloc shape is valid and its slot (in the inline segment) free.
            if let (Some(config), Some(slot)) = (
                CacheConfig::new(name, size, MIN_ALIGN, 0, None, M::REDZONES),
                self.caches.get(i),
            ) {
                let generation = slot.claim(config);
                debug_assert_eq!(generation, Some(KMALLOC_GENERATION));
            }
        }
    }

    /// Takes every lock of the heap and keeps them (before `fork`), in the order the
    /// heap itself nests them, so the child never inherits a lock held by a thread
    /// it does not have.
    pub fn lock_all(&self) {
        self.quarantine.lock_all();
        // Magazines before the cache locks: a refill or flush takes a class's lock
        // while holding its magazine's.
        for pc in &self.percpu {
            core::mem::forget(pc.lock());
        }
        self.caches.lock_all();
        for cache in self.caches.slots() {
            core::mem::forget(cache.lists.lock());
        }
        self.arenas.main.lock_all();
        self.arenas.vmap.lock_all();
        if let Some(v) = self.host.vmalloc_shadow() {
            v.lock_all();
        }
    }

    /// Releases what [`Heap::lock_all`] took (in the parent and in the child after
    /// `fork`).
    ///
    /// # Safety
    ///
    /// This thread (or, in a child, the thread that forked) must have called
    /// [`Heap::lock_all`] and nothing may have released those locks since.
    pub unsafe fn unlock_all(&self) {
        // SAFETY: the caller holds every lock through `lock_all`'s forgotten guards.
        unsafe {
            if let Some(v) = self.host.vmalloc_shadow() {
                v.unlock_all();
            }
            self.arenas.vmap.unlock_all();
            self.arenas.main.unlock_all();
            for cache in self.caches.slots() {
                cache.lists.force_unlock();
            }
            self.caches.unlock_all();
            for pc in &self.percpu {
                pc.force_unlock();
            }
            self.quarantine.unlock_all();
        }
    }

    /// In a forked child, after [`Heap::unlock_all`]: gives back what the parent's
    /// other threads had half done outside every lock (vmalloc shadow pages being
    /// mapped, [`VmallocShadow::forget_populates`]), which no thread of the child
    /// would ever finish.
    pub fn after_fork_child(&self) {
        if let (Some(v), Some(pages)) = (self.host.vmalloc_shadow(), self.mode.shadow_pages()) {
            let _ = v.forget_populates(pages);
        }
    }

    /// The CPU a tag-mode event draws its tag and records on; generic mode reads no
    /// CPU on its allocation path.
    #[inline(always)]
    fn tag_cpu(&self) -> usize {
        if M::OBJECT_TRACKS {
            0
        } else {
            self.host.cpu()
        }
    }

    /// The heap's mode.
    pub fn mode(&self) -> &M {
        &self.mode
    }

    /// Whether `addr` (tagged or not) lies in the heap's arena.
    pub fn contains(&self, addr: usize) -> bool {
        self.arenas.contains(self.mode.untag(addr))
    }

    /// Sets the quarantine bound in bytes (0 disables it).
    pub fn set_quarantine_max(&self, bytes: usize) {
        self.quarantine.set_max(bytes);
    }

    /// Bounds the quarantine by `percent` of the live heap too (0: not), never below
    /// `floor` bytes ([`Quarantine::set_live_bound`]).
    pub fn set_quarantine_live_bound(&self, percent: usize, floor: usize) {
        self.quarantine.set_live_bound(percent, floor);
    }

    /// Current figures.
    pub fn stats(&self) -> HeapStats {
        HeapStats {
            pages: self.arenas.used_pages(),
            quarantine_bytes: self.quarantine.bytes(),
            live_objects: self.live_objects(),
        }
    }

    /// Objects allocated and not freed: what the magazines handed out less what was
    /// released into them, plus the per-CPU counts of the other paths, less what
    /// the quarantine holds (freed, not yet released). Exact when no other thread is
    /// in the heap; a statistic otherwise.
    fn live_objects(&self) -> usize {
        // Relaxed: a statistic.
        let counted = self
            .live
            .iter()
            .fold(0usize, |sum, c| sum.wrapping_add(c.load(Ordering::Relaxed)));
        let mags = self
            .percpu
            .iter()
            .filter_map(|pc| pc.lock_unless_held().map(|pc| pc.live))
            .fold(0usize, usize::wrapping_add);
        counted
            .wrapping_add(mags)
            .wrapping_sub(self.quarantine.objects())
    }

    /// Counts an object in (`up`) or out of the live total, on this CPU's counter
    /// (a locked add: threads share a CPU's counter, and the figure stays exact), for
    /// the allocations and releases that do not go through a magazine (those count
    /// under the magazine's lock, `CpuCache::live`). An object counts out when it is
    /// released, not when it is freed: [`Heap::live_objects`] subtracts the
    /// quarantine's objects.
    #[inline]
    fn count_live(&self, up: bool, bytes: usize) {
        let k = self.host.cpu() % MAG_CPUS;
        let (c, b) = (&self.live[k], &self.live_bytes[k]);
        // Relaxed: statistics, read only by `live_objects` and `live_bytes`;
        // wrapping is by design (see `live`).
        if up {
            c.fetch_add(1, Ordering::Relaxed);
            b.fetch_add(bytes, Ordering::Relaxed);
        } else {
            c.fetch_sub(1, Ordering::Relaxed);
            b.fetch_sub(bytes, Ordering::Relaxed);
        }
    }

    /// Counts `bytes` in (`up`) or out on magazine slot `k`'s byte count; the caller
    /// holds that slot's lock (the only writer).
    #[inline]
    fn count_mag_bytes(&self, k: usize, up: bool, bytes: usize) {
        let c = &self.mag_bytes[k];
        // Relaxed: one writer (under the magazine lock); readers take a statistic.
        let v = c.load(Ordering::Relaxed);
        c.store(
            if up {
                v.wrapping_add(bytes)
            } else {
                v.wrapping_sub(bytes)
            },
            Ordering::Relaxed,
        );
    }

    /// What the objects allocated and not yet released hold (quarantined ones
    /// included: they count out when released), by [`Heap::footprint`]. Read without
    /// a lock: a statistic, exact in a quiet heap.
    pub fn counted_bytes(&self) -> usize {
        // Relaxed: statistics (see `count_live`).
        self.live_bytes
            .iter()
            .chain(&self.mag_bytes)
            .fold(0usize, |sum, c| sum.wrapping_add(c.load(Ordering::Relaxed)))
    }

    /// What an object of `run` holds: its pages if page-backed, else its slot and
    /// its metadata outside the slot.
    #[inline]
    fn footprint(run: Run) -> usize {
        let h = run.header();
        if is_page_backed(h.cache.load(Ordering::Relaxed)) {
            return h.pages.load(Ordering::Relaxed) as usize * PAGE_SIZE;
        }
        h.slot.load(Ordering::Relaxed) as usize
            + core::mem::size_of::<crate::pages::ObjMeta>()
            + run
                .info(0)
                .map_or(0, |_| core::mem::size_of::<crate::pages::ObjInfo>())
    }

    fn config(&self, cache: u32) -> Option<&CacheConfig> {
        self.caches.get(cache as usize)?.config()
    }

    fn slot(&self, cache: u32) -> Option<&CacheSlot> {
        if is_page_backed(cache) {
            return None;
        }
        self.caches.get(cache as usize)
    }

    /// The kmalloc class for `size` bytes aligned to `align`, if a slab cache can
    /// serve it: objects sit `slot` bytes apart from a page boundary, so all are
    /// aligned when the slot is a multiple of the alignment.
    /// Tag modes have no class below their granule (Linux's minimum kmalloc alignment).
    fn class_for(&self, size: usize, align: usize) -> Option<usize> {
        let size = size.max(M::MIN_KMALLOC);
        if align <= MIN_ALIGN {
            // The common case, without touching the cache table.
            return small_class(size);
        }
        (0..KMALLOC_CACHES).find(|&i| {
            self.config(i as u32).is_some_and(|c| {
                c.object_size >= size && align <= PAGE_SIZE && c.slot.is_multiple_of(align)
            })
        })
    }

    /// kmalloc: `size` bytes aligned to `align` (a power of two), recording `track`
    /// as the allocation; `zero` clears the memory. `size` 0 gives a unique object
    /// with no accessible byte.
    pub fn alloc(
        &self,
        size: usize,
        align: usize,
        zero: bool,
        track: &Track,
    ) -> Result<usize, AllocError> {
        let r = if size > MAX_SIZE || !valid_align(align) {
            Err(AllocError::Invalid)
        } else {
            match self.class_for(size, align) {
                Some(i) => self.alloc_slab(i as u32, KMALLOC_GENERATION, size, zero, track),
                None => self.alloc_page_backed(LARGE, size, align, zero, track),
            }
        };
        self.consumed(r, track)
    }

    /// `kmem_cache_alloc` from a cache made by [`Heap::cache_create`] (or a kmalloc
    /// cache): an object of the cache's size.
    /// `Destroyed` once the cache is destroyed.
    pub fn cache_alloc(
        &self,
        cache: CacheId,
        zero: bool,
        track: &Track,
    ) -> Result<usize, AllocError> {
        let r = match self.config(cache.index) {
            Some(c) => self.alloc_slab(cache.index, cache.generation, c.object_size, zero, track),
            None => Err(AllocError::Destroyed),
        };
        self.consumed(r, track)
    }

    /// `__get_free_pages`: `2^order` pages, page-aligned; `gfp` (Linux's flags) is
    /// kept for the report's page_owner lines.
    pub fn alloc_pages(
        &self,
        order: u32,
        gfp: u32,
        zero: bool,
        track: &Track,
    ) -> Result<usize, AllocError> {
        if order > MAX_ORDER {
            return self.consumed(Err(AllocError::Invalid), track);
        }
        let p = self.consumed(
            self.alloc_page_backed(PAGES, PAGE_SIZE << order, PAGE_SIZE, zero, track),
            track,
        )?;
        if let Some(run) = self.arenas.run_of(self.mode.untag(p)) {
            run.header().gfp.store(gfp, Ordering::Relaxed);
        }
        Ok(p)
    }

    /// `vmalloc`: `size` bytes in whole pages followed by an inaccessible guard
    /// page; the tail of the last page is poisoned as vmalloc redzone.
    pub fn alloc_vmalloc(
        &self,
        size: usize,
        zero: bool,
        track: &Track,
    ) -> Result<usize, AllocError> {
        self.alloc_vmalloc_aligned(size, PAGE_SIZE, zero, track)
    }

    /// `__vmalloc_node`: a vmalloc area whose start is a multiple of `align` (a power
    /// of two; a page at least).
    pub fn alloc_vmalloc_aligned(
        &self,
        size: usize,
        align: usize,
        zero: bool,
        track: &Track,
    ) -> Result<usize, AllocError> {
        let r = if size == 0 || size > MAX_SIZE || !valid_align(align) {
            Err(AllocError::Invalid)
        } else {
            self.alloc_page_backed(VMALLOC, size, align.max(PAGE_SIZE), zero, track)
        };
        self.consumed(r, track)
    }

    /// `kmem_cache_create`: a cache of `size`-byte objects. There is no limit on
    /// the number of caches but memory: the table grows by segments.
    pub fn cache_create(
        &self,
        name: &str,
        size: usize,
        align: usize,
        flags: u32,
        ctor: Option<Ctor>,
    ) -> Result<CacheId, AllocError> {
        let config = CacheConfig::new(name, size, align, flags, ctor, M::REDZONES)
            .ok_or(AllocError::Invalid)?;
        let mut index = KMALLOC_CACHES;
        loop {
            let slot = self
                .caches
                .get_or_grow(index, |bytes| self.host.map(bytes))
                .ok_or(AllocError::OutOfMemory)?;
            if let Some(generation) = slot.claim(config) {
                return Ok(CacheId {
                    index: index as u32,
                    generation,
                });
            }
            index += 1;
            if index as u32 >= VMALLOC {
                return Err(AllocError::OutOfMemory);
            }
        }
    }

    /// `kmem_cache_destroy`: refused while objects are still allocated. Otherwise
    /// the cache is dead at once (later allocations fail with `Destroyed`), its
    /// wholly free runs are given back, and each run still holding quarantined
    /// objects goes back when the quarantine releases its last one, so the cost is
    /// that of the cache's own runs, never a search of the quarantine. The slot is
    /// reused once the last run is back.
    pub fn cache_destroy(&self, cache: CacheId) -> Result<(), DestroyError> {
        if (cache.index as usize) < KMALLOC_CACHES {
            return Err(DestroyError::NoCache);
        }
        let slot = self.slot(cache.index).ok_or(DestroyError::NoCache)?;
        let mut lists = slot.lists.lock_unless_held().ok_or(DestroyError::Busy)?;
        if !slot.is_live(cache.generation) {
            return Err(DestroyError::NoCache);
        }
        let mut to_free = self.drain_deferred(slot, &mut lists);
        // Relaxed: `live` changes under the lock we hold (allocation) or before the
        // free's object is released under it; a racing free only lowers it.
        let live = slot.live.load(Ordering::Relaxed);
        if live > 0 {
            drop(lists);
            self.free_chain(to_free);
            return Err(DestroyError::LiveObjects(live));
        }
        slot.kill();
        let (mut partial, spare) = (lists.partial, lists.spare);
        *lists = Lists::default();
        // Runs on the partial list (and the spare, whose own link is stale) with no
        // object in use go now; the others stay, off every list, until the
        // quarantine releases their objects (`release_locked`).
        let mut runs = slot.runs.load(Ordering::Relaxed);
        let mut visit = |run: Run, to_free: &mut usize| {
            let h = run.header();
            h.on_partial.store(0, Ordering::Relaxed);
            if h.in_use.load(Ordering::Relaxed) == 0 {
                runs = runs.saturating_sub(1);
                h.next_partial.store(*to_free, Ordering::Relaxed);
                *to_free = run.start();
            }
        };
        let mut guard = 0usize;
        while let Some(run) = self.arenas.run_of(partial) {
            partial = run.header().next_partial.load(Ordering::Relaxed);
            visit(run, &mut to_free);
            guard += 1;
            if guard > slot.runs.load(Ordering::Relaxed) + 1 {
                break;
            }
        }
        if let Some(run) = self.arenas.run_of(spare) {
            visit(run, &mut to_free);
        }
        slot.runs.store(runs, Ordering::Relaxed);
        if runs == 0 {
            slot.retire();
        }
        drop(lists);
        self.free_chain(to_free);
        Ok(())
    }

    /// Gives back the pages of runs chained through their `next_partial` words (runs
    /// taken off their cache under its lock; the caller holds no lock).
    fn free_chain(&self, mut run: usize) {
        while let Some(r) = self.arenas.run_of(run) {
            run = r.header().next_partial.load(Ordering::Relaxed);
            self.free_run(r);
        }
    }

    /// Puts back the objects released while this thread held the cache's lock
    /// (under it); returns the chain of runs to free once it is dropped.
    fn drain_deferred(&self, slot: &CacheSlot, lists: &mut Lists) -> usize {
        // Relaxed pre-check; Acquire pairs with the Release push in `release`: the
        // objects' links are visible.
        if slot.deferred.load(Ordering::Relaxed) == 0 {
            return 0;
        }
        let mut to_free = 0;
        let mut obj = slot.deferred.swap(0, Ordering::Acquire);
        while let Some(run) = self.arenas.run_of(obj) {
            let next = run.meta(run.slot_of(obj)).next.load(Ordering::Relaxed);
            if let Some(r) = self.release_locked(slot, lists, run, obj) {
                r.header().next_partial.store(to_free, Ordering::Relaxed);
                to_free = r.start();
            }
            obj = next;
        }
        to_free
    }

    /// The name of a live cache.
    pub fn cache_name(&self, cache: u32) -> Option<Name> {
        self.config(cache).map(|c| c.name)
    }

    /// Marks never-used arena memory as free pages, so a run's overflow into it is
    /// caught (called by the arena under its lock).
    fn poison_fresh(&self, addr: usize, len: usize) {
        self.mode.poison_fresh(addr, len);
    }

    /// Fills the object's metadata and shadow for a new allocation and returns the
    /// pointer for the program, tagged as `tagging` says. Consumes `track`: generic
    /// mode and page-backed blocks keep it in the metadata, tag modes record a slab
    /// allocation in the ring.
    fn finish_alloc(
        &self,
        run: Run,
        i: usize,
        size: usize,
        zero: bool,
        track: &Track,
        tagging: Tagging,
    ) -> usize {
        let cache = run.header().cache.load(Ordering::Relaxed);
        let page_backed = is_page_backed(cache);
        let object_size = self.object_size(run);
        let object = run.object(i);
        let meta = run.meta(i);
        let cpu = self.tag_cpu();
        meta.size
            .store(size.min(u32::MAX as usize) as u32, Ordering::Relaxed);
        if M::OBJECT_TRACKS || page_backed {
            meta.alloc_pid.store(track.pid, Ordering::Relaxed);
            if M::OBJECT_TRACKS {
                meta.alloc_stack.store(track.stack.0, Ordering::Relaxed);
            } else {
                // A pooled page-backed element handed out again: its old track goes.
                let old = meta.alloc_stack.swap(track.stack.0, Ordering::Relaxed);
                self.host.put_stack(Handle(old));
            }
            if let Some(info) = run.info(i) {
                info.alloc_info.store(
                    pack_info(track.cpu, self.track_time(run, track)),
                    Ordering::Relaxed,
                );
            }
        }
        meta.free_stack.store(0, Ordering::Relaxed);
        meta.free_pid.store(0, Ordering::Relaxed);
        meta.aux[0].store(0, Ordering::Relaxed);
        meta.aux[1].store(0, Ordering::Relaxed);
        let (tagged, tag) = match tagging {
            Tagging::Keep(tagged) => {
                self.mode
                    .resize(tagged, size, object_size, block_kind(cache));
                (tagged, self.mode.tag_of(tagged))
            }
            Tagging::New(_) if page_backed && !self.shadowed(cache) => {
                (object, self.mode.tag_of(object))
            }
            Tagging::New(_) if page_backed => {
                self.mode
                    .unpoison_block(object, object_size, size, NO_TAG, block_kind(cache), cpu)
            }
            Tagging::New(policy) => {
                self.mode
                    .slab_alloc(object, object_size, size, policy, meta.tag(), cpu)
            }
        };
        meta.set_state_tag(State::Allocated, tag);
        if zero && size > 0 {
            self.arenas.of(object).zero(object, size);
        }
        if !M::OBJECT_TRACKS && !page_backed {
            self.mode.record(tagged, object_size, false, track, cpu);
        }
        tagged
    }

    fn alloc_slab(
        &self,
        cache: u32,
        generation: u32,
        size: usize,
        zero: bool,
        track: &Track,
    ) -> Result<usize, AllocError> {
        let slot = self.slot(cache).ok_or(AllocError::Invalid)?;
        let config = slot.config().ok_or(AllocError::Destroyed)?;
        if let Some(object) = self.magazine_pop(slot, cache, generation, config) {
            if let Some((run, i)) = self
                .arenas
                .run_of(object)
                .and_then(|run| Some((run, run.index_of(object)?)))
            {
                return Ok(self.finish_alloc(
                    run,
                    i,
                    size,
                    zero,
                    track,
                    Tagging::New(config.tag_policy()),
                ));
            }
        }
        loop {
            let mut lists = slot.lists.lock_unless_held().ok_or(AllocError::Busy)?;
            if !slot.is_live(generation) {
                return Err(AllocError::Destroyed);
            }
            let to_free = self.drain_deferred(slot, &mut lists);
            let got = self.pop_object(slot, &mut lists);
            drop(lists);
            self.free_chain(to_free);
            if let Some((run, i)) = got {
                self.count_live(true, Self::footprint(run));
                return Ok(self.finish_alloc(
                    run,
                    i,
                    size,
                    zero,
                    track,
                    Tagging::New(config.tag_policy()),
                ));
            }
            // No free slot: make a run outside the lock (constructors are program
            // code and may allocate, or even destroy the cache), then offer it.
            let run = self.new_cache_run(cache, config)?;
            let Some(mut lists) = slot.lists.lock_unless_held() else {
                self.free_run(run);
                return Err(AllocError::Busy);
            };
            if !slot.is_live(generation) {
                drop(lists);
                self.free_run(run);
                return Err(AllocError::Destroyed);
            }
            run.header().on_partial.store(1, Ordering::Relaxed);
            run.header()
                .next_partial
                .store(lists.partial, Ordering::Relaxed);
            lists.partial = run.start();
            slot.runs.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// An object from this CPU's magazine of kmalloc class `cache`, refilled from the
    /// class's runs in one batch when empty. `None` sends the caller to the shared
    /// path: not a kmalloc class, the magazine held (another thread on this CPU slot,
    /// or this thread interrupted inside it by a signal handler: it is only ever
    /// tried, never waited for), or the class has no free slot in its runs.
    #[inline]
    fn magazine_pop(
        &self,
        slot: &CacheSlot,
        cache: u32,
        generation: u32,
        config: &CacheConfig,
    ) -> Option<usize> {
        if !is_kmalloc_class(cache) || generation != KMALLOC_GENERATION {
            return None;
        }
        let k = self.host.cpu() % MAG_CPUS;
        let mut guard = self.percpu[k].try_lock()?;
        let pc = &mut *guard;
        let mag = &mut pc.mags[cache as usize];
        if mag.n == 0 {
            let want = magazine_capacity(config.slot) / 2;
            let mut lists = slot.lists.lock_unless_held()?;
            let to_free = self.drain_deferred(slot, &mut lists);
            while mag.n < want {
                let Some((run, i)) = self.pop_object(slot, &mut lists) else {
                    break;
                };
                mag.objs[mag.n] = run.object(i);
                mag.n += 1;
            }
            drop(lists);
            self.free_chain(to_free);
            if mag.n == 0 {
                return None;
            }
            // Handed out in the runs' order (lowest address first), as from the
            // run's free list.
            mag.objs[..mag.n].reverse();
        }
        mag.n -= 1;
        pc.live = pc.live.wrapping_add(1);
        self.count_mag_bytes(k, true, slab_footprint(config));
        if let Some(&next) = mag.n.checked_sub(1).and_then(|i| mag.objs.get(i)) {
            // The next allocation of this class gets `next`: start loading the
            // metadata and shadow it will write (SLUB prefetches its next free
            // pointer the same way). A quarantined object comes back cold.
            self.prefetch_object(next);
        }
        Some(mag.objs[mag.n])
    }

    /// Starts loading the metadata and the first shadow line of the slab object at
    /// `obj` (no access: a hint).
    #[inline]
    fn prefetch_object(&self, obj: usize) {
        if let Some(run) = self.arenas.run_of(obj) {
            crate::pages::prefetch(core::ptr::from_ref(run.meta(run.slot_of(obj))).cast());
        }
        crate::pages::prefetch(self.mode.shadow_span(obj, 1).0 as *const u8);
    }

    /// Puts the released object `addr` of kmalloc class `cache` on this CPU's
    /// magazine, flushing the oldest half of a full one to their runs in one batch
    /// under the class's lock. False (nothing done) sends the caller to the shared
    /// path: not a kmalloc class, the magazine held (see `magazine_pop`), or a full
    /// magazine whose class lock this thread holds.
    #[inline]
    fn magazine_push(&self, slot: &CacheSlot, cache: u32, run: Run, addr: usize) -> bool {
        if !is_kmalloc_class(cache) {
            return false;
        }
        let k = self.host.cpu() % MAG_CPUS;
        let Some(mut guard) = self.percpu[k].try_lock() else {
            return false;
        };
        self.magazine_push_locked(&mut guard, k, slot, cache, run, addr)
    }

    /// [`Heap::magazine_push`] into the magazines of a CPU slot the caller holds.
    #[inline]
    fn magazine_push_locked(
        &self,
        pc: &mut CpuCache,
        k: usize,
        slot: &CacheSlot,
        cache: u32,
        run: Run,
        addr: usize,
    ) -> bool {
        let Some(config) = slot.config() else {
            return false;
        };
        let cap = magazine_capacity(config.slot);
        if cap == 0 {
            return false;
        }
        let mag = &mut pc.mags[cache as usize];
        if mag.n >= cap {
            let Some(mut lists) = slot.lists.lock_unless_held() else {
                return false;
            };
            let mut to_free = self.drain_deferred(slot, &mut lists);
            let half = cap / 2;
            for &obj in &mag.objs[..half] {
                let Some(r) = self.arenas.run_of(obj) else {
                    continue;
                };
                if let Some(r) = self.release_locked(slot, &mut lists, r, obj) {
                    r.header().next_partial.store(to_free, Ordering::Relaxed);
                    to_free = r.start();
                }
            }
            drop(lists);
            mag.objs.copy_within(half..mag.n, 0);
            mag.n -= half;
            self.free_chain(to_free);
        }
        // Free to the program from now on (a second free is a double free), still
        // counted in its run's `in_use`.
        run.meta(run.slot_of(addr)).set_state(State::Free);
        mag.objs[mag.n] = addr;
        mag.n += 1;
        pc.live = pc.live.wrapping_sub(1);
        self.count_mag_bytes(k, false, slab_footprint(config));
        true
    }

    /// Takes a free slot off the cache's lists (under its lock). A list that does
    /// not lead to a live run of this cache (it cannot happen) is dropped rather
    /// than followed.
    fn pop_object(&self, slot: &CacheSlot, lists: &mut Lists) -> Option<(Run, usize)> {
        if lists.partial == 0 && lists.spare != 0 {
            let spare = core::mem::take(&mut lists.spare);
            if let Some(run) = self.arenas.run_of(spare) {
                run.header().on_partial.store(1, Ordering::Relaxed);
                run.header().next_partial.store(0, Ordering::Relaxed);
                lists.partial = run.start();
            }
        }
        loop {
            let run = self
                .arenas
                .run_of(lists.partial)
                .filter(|r| r.start() == lists.partial);
            let Some(run) = run else {
                lists.partial = 0;
                return None;
            };
            let h = run.header();
            // The lowest free slot: from the run's header alone (a free list linked
            // through the metadata costs a cache miss per object taken), and in
            // address order, so refilled objects, their metadata and shadow are
            // neighbours.
            let Some(i) = run.take_free() else {
                // No free slot after all: off the partial list.
                lists.partial = h.next_partial.load(Ordering::Relaxed);
                h.on_partial.store(0, Ordering::Relaxed);
                continue;
            };
            // Under the cache's lock, as every change of `in_use`: no locked add.
            let in_use = h.in_use.load(Ordering::Relaxed) + 1;
            h.in_use.store(in_use, Ordering::Relaxed);
            if in_use >= h.nobj.load(Ordering::Relaxed) {
                lists.partial = h.next_partial.load(Ordering::Relaxed);
                h.on_partial.store(0, Ordering::Relaxed);
            }
            if !is_kmalloc_class(cache_of(run)) {
                slot.live.fetch_add(1, Ordering::Relaxed);
            }
            return Some((run, i));
        }
    }

    fn new_cache_run(&self, cache: u32, c: &CacheConfig) -> Result<Run, AllocError> {
        let run = self
            .arenas
            .main
            .new_run(c.shape(), cache, |a, l| self.poison_fresh(a, l))?;
        self.mode.poison_slab(run.start(), c.pages * PAGE_SIZE);
        let policy = c.tag_policy();
        let cpu = self.tag_cpu();
        for i in (0..c.nobj).rev() {
            let object = run.object(i);
            let tag = self.mode.init_slab_obj(object, policy, cpu);
            run.meta(i).set_tag(tag);
            if c.ctor.is_some() {
                // The constructor writes the object through the pointer it will be
                // handed out with: let it, then hide it again.
                let (tagged, _) = self.mode.slab_alloc(
                    object,
                    c.object_size,
                    c.object_size,
                    TagPolicy::KeptFromSlabInit,
                    tag,
                    cpu,
                );
                c.construct(tagged);
                self.mode.poison_slab(object, c.object_size);
            }
            // Every slot is free.
            run.put_free(i);
        }
        Ok(run)
    }

    fn alloc_page_backed(
        &self,
        kind: u32,
        size: usize,
        align: usize,
        zero: bool,
        track: &Track,
    ) -> Result<usize, AllocError> {
        // | header page | object pages | tail |, the object's first page a multiple
        // of `align` (the pages an alignment skips stay free memory).
        let align = align.max(PAGE_SIZE);
        let tail = match kind {
            LARGE => optimal_redzone(size).min(PAGE_SIZE),
            VMALLOC => PAGE_SIZE,
            _ => 0,
        };
        let object_pages = (size + tail).div_ceil(PAGE_SIZE);
        let pages = 1 + object_pages;
        let on_demand = kind == VMALLOC && self.vmalloc_on_demand();
        let arena = if kind == VMALLOC {
            self.arenas.for_vmalloc()
        } else {
            &self.arenas.main
        };
        let run = arena.new_run_aligned(RunShape::block(pages), kind, align, |a, l| {
            // The vmalloc space's never-used memory keeps its shadow unmapped.
            if !on_demand && self.shadowed(kind) {
                self.poison_fresh(a, l)
            }
        })?;
        if on_demand {
            // `kasan_populate_vmalloc`: the area's shadow, header and guard included.
            let (lo, hi) = self.mode.shadow_span(run.start(), pages * PAGE_SIZE);
            let populated = match (self.host.vmalloc_shadow(), self.mode.shadow_pages()) {
                (Some(v), Some(p)) => v.populate(p, lo, hi),
                _ => Ok(()),
            };
            if let Err(e) = populated {
                arena.free_run(run, |a, l| self.host.discard(a, l), |_, _| {});
                return Err(match e {
                    kasan_core::shadow_pages::PopulateError::NoMemory => AllocError::OutOfMemory,
                    kasan_core::shadow_pages::PopulateError::Busy => AllocError::Busy,
                });
            }
        }
        let object = run.start() + PAGE_SIZE;
        debug_assert!(object.is_multiple_of(align));
        let h = run.header();
        h.first
            .store((object - run.start()) as u32, Ordering::Relaxed);
        h.big_size.store(size, Ordering::Relaxed);
        // What Linux's allocator would have been asked for: kmalloc_large adds
        // __GFP_COMP to GFP_KERNEL; vmalloc's pages are GFP_KERNEL|__GFP_HIGHMEM.
        h.gfp.store(
            match kind {
                LARGE => GFP_KERNEL | GFP_COMP,
                VMALLOC => GFP_KERNEL | GFP_HIGHMEM,
                _ => GFP_KERNEL,
            } | if zero { GFP_ZERO } else { 0 },
            Ordering::Relaxed,
        );
        // The header page is the block's left redzone.
        if self.shadowed(kind) {
            self.mode.unpoison_block(
                run.start(),
                object - run.start(),
                0,
                NO_TAG,
                block_kind(kind),
                self.tag_cpu(),
            );
        }
        let end = run.start() + pages * PAGE_SIZE;
        if kind == VMALLOC && !self.shadowed(kind) {
            // Unchecked vmalloc (`kasan.vmalloc=off`): the MMU guard is the only one.
            // Checked, the guard page's shadow says VMALLOC_INVALID and no mprotect
            // is made: one costs two system calls per area and two kernel mappings
            // per live area, and the kernel's mapping limit (vm.max_map_count) then
            // made vmalloc fail at some 32,000 live areas.
            self.host.protect(end - PAGE_SIZE, PAGE_SIZE, false);
        }
        self.count_live(true, Self::footprint(run));
        Ok(self.finish_alloc(
            run,
            0,
            size,
            zero,
            track,
            Tagging::New(TagPolicy::FreshEachAlloc),
        ))
    }

    /// The bytes the object's cache reserves for it (Linux's `object_size`); for a
    /// page-backed object, up to the end of its pages.
    fn object_size(&self, run: Run) -> usize {
        let h = run.header();
        match h.cache.load(Ordering::Relaxed) {
            c if is_page_backed(c) => {
                h.pages.load(Ordering::Relaxed) as usize * PAGE_SIZE
                    - h.first.load(Ordering::Relaxed) as usize
            }
            c => self.config(c).map_or(0, |c| c.object_size),
        }
    }

    /// The requested size of a live object in a run.
    fn requested_size(&self, run: Run, meta: &ObjMeta) -> usize {
        match run.header().cache.load(Ordering::Relaxed) {
            c if is_page_backed(c) => run.header().big_size.load(Ordering::Relaxed),
            _ => meta.size.load(Ordering::Relaxed) as usize,
        }
    }

    /// Looks up the object starting at `addr` (as the program holds it) for a free
    /// of `kind`: `Invalid` if there is none (or it belongs to another allocator),
    /// `Double` if it is free. In tag modes the pointer's tag is asked first: one that
    /// does not match memory is a double free, so a stale pointer to a reused slot
    /// never frees the slot's new object. Returns the untagged object too.
    fn live_object(
        &self,
        addr: usize,
        kind: FreeKind,
    ) -> Result<(Run, usize, &'static ObjMeta, usize), FreeError> {
        let object = self.mode.untag(addr);
        let Some(run) = self.arenas.run_of(object) else {
            // Pages already given back: a page-aligned pointer into freed pages is
            // freed twice (Linux: the first byte is not accessible). Purged vmalloc
            // space has no shadow to read: it is free.
            let freed = !self.shadow_readable(object) || !self.mode.check(addr, 1);
            let page_kind = !matches!(kind, FreeKind::Cache(_));
            return Err(
                if self.arenas.contains(object)
                    && object.is_multiple_of(PAGE_SIZE)
                    && freed
                    && page_kind
                {
                    FreeError::Double
                } else {
                    FreeError::Invalid
                },
            );
        };
        let i = run.index_of(object).ok_or(FreeError::Invalid)?;
        let h = run.header();
        let cache = h.cache.load(Ordering::Relaxed);
        let matches = match kind {
            FreeKind::Kmalloc => cache == LARGE || !is_page_backed(cache),
            FreeKind::Cache(c) => cache == c,
            FreeKind::Pages(order) => {
                cache == PAGES
                    && h.big_size.load(Ordering::Relaxed) == PAGE_SIZE << order.min(MAX_ORDER)
            }
            FreeKind::Vmalloc => cache == VMALLOC,
        };
        if !matches {
            return Err(FreeError::Invalid);
        }
        let meta = run.meta(i);
        // A live object whose pointer carries the slot's tag is itself even when no
        // byte of it is accessible (size 0).
        if self.mode.free_check(addr) == FreeCheck::Double
            && !(meta.state() == State::Allocated && meta.tag() == self.mode.tag_of(addr))
        {
            return Err(FreeError::Double);
        }
        match meta.state() {
            State::Allocated => Ok((run, i, meta, object)),
            State::Quarantined | State::Pooled => Err(FreeError::Double),
            // A slot that was freed and has left quarantine is still a double free
            // if it carries a free track; one never handed out is an invalid free.
            State::Free if M::OBJECT_TRACKS => {
                if meta.free_stack.load(Ordering::Relaxed) != 0
                    || meta.free_pid.load(Ordering::Relaxed) != 0
                {
                    Err(FreeError::Double)
                } else {
                    Err(FreeError::Invalid)
                }
            }
            State::Free if meta.freed_once() => Err(FreeError::Double),
            State::Free => Err(FreeError::Invalid),
        }
    }

    /// The requested size of the live kmalloc object at `addr`.
    pub fn usable_size(&self, addr: usize) -> Option<usize> {
        self.live_object(addr, FreeKind::Kmalloc)
            .ok()
            .map(|(run, _, m, _)| self.requested_size(run, m))
    }

    /// The cache's object size for the live object at `addr` (Linux's `ksize`).
    pub fn ksize(&self, addr: usize) -> Option<usize> {
        self.live_object(addr, FreeKind::Kmalloc)
            .ok()
            .map(|(run, _, _, _)| self.object_size(run))
    }

    /// Linux's `ksize` with its unpoison: the live kmalloc object's whole
    /// `object_size` becomes accessible through `addr` (and stays so until it is
    /// freed or resized); returns that size.
    pub fn ksize_unpoison(&self, addr: usize) -> Option<usize> {
        let (run, _, _, _) = self.live_object(addr, FreeKind::Kmalloc).ok()?;
        let size = self.object_size(run);
        self.mode.unpoison_range(addr, size);
        Some(size)
    }

    /// `krealloc` in place: if the live kmalloc object at `addr` can hold
    /// `new_size` bytes, its valid part becomes exactly `new_size` (the rest turns
    /// back into redzone; tag modes: the pointer keeps its tag) and true is returned.
    pub fn resize(&self, addr: usize, new_size: usize) -> bool {
        self.resize_inner(addr, new_size).is_some()
    }

    /// [`Heap::resize`] that also records the reallocation (Linux's krealloc saves
    /// the alloc track again): tag modes record a slab object's in the ring; a
    /// page-backed object keeps its first track. Always consumes `track`.
    pub fn resize_tracked(&self, addr: usize, new_size: usize, track: &Track) -> bool {
        match self.resize_inner(addr, new_size) {
            Some(run)
                if !M::OBJECT_TRACKS
                    && !is_page_backed(run.header().cache.load(Ordering::Relaxed)) =>
            {
                self.mode
                    .record(addr, self.object_size(run), false, track, self.tag_cpu());
                true
            }
            r => {
                self.drop_track(track);
                r.is_some()
            }
        }
    }

    /// `vrealloc` in place: if the live vmalloc area at `addr` has pages for
    /// `new_size` bytes (its guard page not counted), its valid part becomes exactly
    /// `new_size` (the rest of its last page turns back into redzone) and true is
    /// returned. The area keeps its allocation track, as Linux's vrealloc does.
    pub fn resize_vmalloc(&self, addr: usize, new_size: usize) -> bool {
        self.resize_kind(addr, new_size, FreeKind::Vmalloc)
            .is_some()
    }

    /// The live page-backed block (page allocator, large kmalloc or vmalloc area)
    /// that `addr` (tagged or not) falls in: its kind, untagged start, requested
    /// size and tag. `None` for slab memory and for anything not allocated.
    pub fn page_block(&self, addr: usize) -> Option<PageBlock> {
        let addr = self.mode.untag(addr);
        let run = self.arenas.run_of(addr)?;
        let h = run.header();
        let cache = h.cache.load(Ordering::Relaxed);
        if !is_page_backed(cache) {
            return None;
        }
        let i = run.slot_of(addr);
        let meta = run.meta(i);
        if meta.state() != State::Allocated {
            return None;
        }
        let start = run.object(i);
        let len = h.big_size.load(Ordering::Relaxed);
        let capacity = self.object_size(run) - if cache == VMALLOC { PAGE_SIZE } else { 0 };
        if addr < start || addr >= start + capacity.max(len) {
            return None;
        }
        Some(PageBlock {
            kind: block_kind(cache),
            start,
            len,
            tag: meta.tag(),
        })
    }

    fn resize_inner(&self, addr: usize, new_size: usize) -> Option<Run> {
        self.resize_kind(addr, new_size, FreeKind::Kmalloc)
    }

    fn resize_kind(&self, addr: usize, new_size: usize, kind: FreeKind) -> Option<Run> {
        let (run, _, meta, _) = self.live_object(addr, kind).ok()?;
        let guard = if kind == FreeKind::Vmalloc {
            PAGE_SIZE
        } else {
            0
        };
        let object_size = self.object_size(run) - guard;
        if new_size > object_size || new_size > u32::MAX as usize {
            return None;
        }
        let cache = run.header().cache.load(Ordering::Relaxed);
        self.mode
            .resize(addr, new_size, object_size, block_kind(cache));
        meta.size.store(new_size as u32, Ordering::Relaxed);
        run.header().big_size.store(new_size, Ordering::Relaxed);
        Some(run)
    }

    /// Copies the first `len` bytes of one live object into another (realloc).
    pub fn copy(&self, dst: usize, src: usize, len: usize) {
        self.arenas
            .copy(self.mode.untag(dst), self.mode.untag(src), len);
    }

    /// A track the heap does not keep: tag modes put its stack (generic tracks are
    /// persistent and kept nowhere either, as today).
    fn drop_track(&self, track: &Track) {
        if !M::OBJECT_TRACKS {
            self.host.put_stack(track.stack);
        }
    }

    /// An allocation's result, its track dropped when it failed.
    fn consumed(&self, r: Result<usize, AllocError>, track: &Track) -> Result<usize, AllocError> {
        if r.is_err() {
            self.drop_track(track);
        }
        r
    }

    /// Records the free of the object `tagged` (after it was poisoned): generic in
    /// its metadata; tag modes in the ring (slab) or nowhere (page-backed blocks,
    /// whose frees Linux's tag modes do not record).
    fn record_free(&self, run: Run, i: usize, tagged: usize, track: &Track) {
        let meta = run.meta(i);
        if M::OBJECT_TRACKS {
            meta.free_pid.store(track.pid, Ordering::Relaxed);
            meta.free_stack.store(track.stack.0, Ordering::Relaxed);
            if let Some(info) = run.info(i) {
                info.free_info.store(
                    pack_info(track.cpu, self.track_time(run, track)),
                    Ordering::Relaxed,
                );
            }
            return;
        }
        meta.mark_freed();
        if is_page_backed(run.header().cache.load(Ordering::Relaxed)) {
            self.host.put_stack(track.stack);
        } else {
            self.mode
                .record(tagged, self.object_size(run), true, track, self.tag_cpu());
        }
    }

    /// A track's time; for page memory (whose report prints page_owner's `ts`) the
    /// host's clock when the track has none (`kasan.extra_info` off): slab
    /// allocations do not pay for a clock read.
    fn track_time(&self, run: Run, track: &Track) -> u64 {
        if track.time_ns == 0 && is_page_backed(run.header().cache.load(Ordering::Relaxed)) {
            self.host.now_ns()
        } else {
            track.time_ns
        }
    }

    /// Poisons a freed object; generic marks a slab object's first granule as
    /// holding a valid free track (`SLAB_FREE_META`, Linux's `kasan_save_free_info`).
    fn poison_freed(&self, run: Run, addr: usize, cache: u32) {
        if !self.shadowed(cache) {
            return;
        }
        self.mode.poison_free(
            addr,
            self.object_size(run),
            is_page_backed(cache),
            cache == VMALLOC,
        );
    }

    /// Frees the object at `addr` through the allocator `kind` names, recording
    /// `track`, in Linux's hook order: check, poison, record, release. Generic
    /// mode puts the object in quarantine; tag modes release it at once; in a
    /// `SLAB_TYPESAFE_BY_RCU` cache it goes straight back to its cache, still valid
    /// (tag modes record nothing for it, as Linux). Always consumes `track`.
    pub fn free(&self, addr: usize, kind: FreeKind, track: &Track) -> Result<(), FreeError> {
        let r = self.free_inner(addr, kind, track, false);
        if r.is_err() {
            self.drop_track(track);
        }
        r
    }

    /// [`Heap::free`] of an object of a `SLAB_TYPESAFE_BY_RCU` cache whose grace
    /// period has passed (Linux's `CONFIG_SLUB_RCU_DEBUG`: the free was deferred to an
    /// RCU callback): poisoned and quarantined as any other object.
    pub fn free_after_rcu(
        &self,
        addr: usize,
        kind: FreeKind,
        track: &Track,
    ) -> Result<(), FreeError> {
        let r = self.free_inner(addr, kind, track, true);
        if r.is_err() {
            self.drop_track(track);
        }
        r
    }

    /// What [`Heap::free`] of `addr` would say, without freeing (Linux's
    /// `kasan_slab_pre_free`, before a free is deferred).
    pub fn free_check(&self, addr: usize, kind: FreeKind) -> Result<(), FreeError> {
        self.live_object(addr, kind).map(|_| ())
    }

    /// Whether live cache `cache` is `SLAB_TYPESAFE_BY_RCU`.
    pub fn cache_typesafe_by_rcu(&self, cache: u32) -> bool {
        self.config(cache).is_some_and(|c| c.typesafe_by_rcu())
    }

    fn free_inner(
        &self,
        addr: usize,
        kind: FreeKind,
        track: &Track,
        rcu_done: bool,
    ) -> Result<(), FreeError> {
        let (run, i, meta, object) = self.live_object(addr, kind)?;
        let cache = run.header().cache.load(Ordering::Relaxed);
        // Of two threads freeing one object at once, one frees it; the other's is a
        // double free (and never links the object into the quarantine twice).
        if !meta.transition(State::Allocated, State::Quarantined) {
            return Err(FreeError::Double);
        }
        if let Some(slot) = self.slot(cache).filter(|_| !is_kmalloc_class(cache)) {
            slot.live.fetch_sub(1, Ordering::Relaxed);
        }
        if !rcu_done && self.config(cache).is_some_and(|c| c.typesafe_by_rcu()) {
            // Readers may still look at it under RCU: no poison, no quarantine.
            if M::OBJECT_TRACKS {
                self.record_free(run, i, addr, track);
            } else {
                meta.mark_freed();
                self.host.put_stack(track.stack);
            }
            self.release(object);
            return Ok(());
        }
        self.poison_freed(run, object, cache);
        self.record_free(run, i, addr, track);
        if !M::QUARANTINE {
            self.release(object);
            return Ok(());
        }
        // What the object holds while quarantined: its pages, or its slot, its
        // metadata outside the slot and its entry in a quarantine batch (Linux counts
        // `cache->size`, whose metadata is inside the slot): so the bound is on the
        // memory the quarantine keeps, not only on its objects' slots.
        let bytes = match cache {
            c if is_page_backed(c) => {
                run.header().pages.load(Ordering::Relaxed) as usize * PAGE_SIZE
            }
            _ => {
                run.header().slot.load(Ordering::Relaxed) as usize
                    + core::mem::size_of::<crate::pages::ObjMeta>()
                    + run
                        .info(i)
                        .map_or(0, |_| core::mem::size_of::<crate::pages::ObjInfo>())
                    + core::mem::size_of::<usize>()
            }
        };
        self.quarantine
            .put(object, bytes, self.host.cpu(), &self.arenas, self);
        Ok(())
    }

    /// `mempool_free` keeping the element: checks it as a free would, poisons it and
    /// records the free, but leaves it with the pool (Linux's
    /// `kasan_mempool_poison_object`). Always consumes `track`.
    pub fn pool_poison(&self, addr: usize, kind: FreeKind, track: &Track) -> Result<(), FreeError> {
        let r = self
            .live_object(addr, kind)
            .and_then(|(run, i, meta, object)| {
                if !meta.transition(State::Allocated, State::Pooled) {
                    return Err(FreeError::Double);
                }
                let cache = run.header().cache.load(Ordering::Relaxed);
                self.poison_freed(run, object, cache);
                self.record_free(run, i, addr, track);
                Ok(())
            });
        if r.is_err() {
            self.drop_track(track);
        }
        r
    }

    /// `mempool_alloc` handing out a pooled element again (Linux's
    /// `kasan_mempool_unpoison_object`), with the tag of `addr`; false if `addr` is not
    /// a pooled element. Always consumes `track`.
    pub fn pool_unpoison(&self, addr: usize, track: &Track) -> bool {
        let object = self.mode.untag(addr);
        let found = self
            .arenas
            .run_of(object)
            .and_then(|run| Some((run, run.index_of(object)?)))
            .filter(|&(run, i)| run.meta(i).transition(State::Pooled, State::Allocated));
        let Some((run, i)) = found else {
            self.drop_track(track);
            return false;
        };
        let meta = run.meta(i);
        let size = self.requested_size(run, meta);
        self.finish_alloc(run, i, size, false, track, Tagging::Keep(addr));
        true
    }

    /// Records an aux stack for the live object containing `addr` (generic mode;
    /// Linux's tag modes keep none: there the stack's reference is put).
    pub fn record_aux(&self, addr: usize, stack: Handle) {
        if !M::OBJECT_TRACKS {
            self.host.put_stack(stack);
            return;
        }
        if let Some(run) = self.arenas.run_of(addr) {
            let meta = run.meta(run.slot_of(addr));
            if meta.state() == State::Allocated {
                meta.aux[1].store(meta.aux[0].load(Ordering::Relaxed), Ordering::Relaxed);
                meta.aux[0].store(stack.0, Ordering::Relaxed);
            }
        }
    }

    /// Gives a run's pages back: a page-backed block's shadow says freed pages (and
    /// its kept track goes), a slab run's says never-used memory.
    fn free_run(&self, run: Run) {
        let h = run.header();
        let pages = h.pages.load(Ordering::Relaxed) as usize;
        let cache = h.cache.load(Ordering::Relaxed);
        if cache == VMALLOC && !self.shadowed(cache) {
            self.host
                .protect(run.start() + (pages - 1) * PAGE_SIZE, PAGE_SIZE, true);
        }
        if is_page_backed(cache) {
            if self.shadowed(cache) {
                self.mode
                    .poison_free(run.start(), pages * PAGE_SIZE, true, cache == VMALLOC);
            }
            if !M::OBJECT_TRACKS {
                // Relaxed: the run is ours alone now.
                let stack = run.meta(0).alloc_stack.swap(0, Ordering::Relaxed);
                self.host.put_stack(Handle(stack));
            }
        } else {
            self.mode.poison_fresh(run.start(), pages * PAGE_SIZE);
        }
        if cache == VMALLOC && self.arenas.vmap.is_set() {
            self.queue_purge(run, pages);
            return;
        }
        let touched = (run.start(), run.start() + pages * PAGE_SIZE);
        let arena = self.arenas.of(run.start());
        // A big run gives back the shadow pages it shared with now-free neighbours
        // (the core decides which runs are big enough: `release_free`).
        let release = !core::ptr::eq(arena, &self.arenas.vmap);
        arena.free_run(
            run,
            |a, l| self.host.discard(a, l),
            |lo, hi| {
                if release {
                    self.mode.release_free((lo, hi), touched);
                }
            },
        );
    }

    /// Whether the shadow of untagged `addr` can be read: the vmalloc space's is
    /// unmapped where no area uses it.
    fn shadow_readable(&self, addr: usize) -> bool {
        self.host
            .vmalloc_shadow()
            .is_none_or(|v| v.readable(self.mode.shadow_span(addr, 0).0))
    }

    /// Whether vmalloc areas live in the vmalloc space with shadow on demand.
    fn vmalloc_on_demand(&self) -> bool {
        self.arenas.vmap.is_set() && self.host.vmalloc_shadow().is_some_and(|v| v.enabled())
    }

    /// A freed vmalloc area waits for the lazy purge, in every mode (Linux's vmap
    /// layer purges lazily with or without `CONFIG_KASAN_VMALLOC`): its memory is given
    /// back now, its shadow (poisoned) and its addresses when the purge runs, which it
    /// does once [`LAZY_MAX_PAGES`] are waiting. Until then a stale pointer into it
    /// finds freed shadow, not a new area.
    fn queue_purge(&self, run: Run, pages: usize) {
        // Areas of VMALLOC_DISCARD_PAGES or more give their memory back now; smaller
        // ones keep theirs for the next area at that address.
        if pages >= VMALLOC_DISCARD_PAGES {
            self.host
                .discard(run.start() + PAGE_SIZE, (pages - 1) * PAGE_SIZE);
        }
        self.push_lazy(run.start(), run.header());
        // Relaxed: a threshold; the list itself is published by the CAS.
        if self.vmalloc.lazy_pages.fetch_add(pages, Ordering::Relaxed) + pages >= LAZY_MAX_PAGES {
            self.purge_vmalloc();
        }
    }

    /// Pushes a chain of freed areas (from `first` to the one whose header is `last`,
    /// linked through `next_partial`) onto the lazy-purge list.
    fn push_lazy(&self, first: usize, last: &crate::pages::RunHeader) {
        // Relaxed: the CAS publishes.
        let mut head = self.vmalloc.lazy.load(Ordering::Relaxed);
        loop {
            last.next_partial.store(head, Ordering::Relaxed);
            // Release pairs with the Acquire swap in `purge_vmalloc`.
            match self.vmalloc.lazy.compare_exchange_weak(
                head,
                first,
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => return,
                Err(now) => head = now,
            }
        }
    }

    /// Linux's `purge_vmap_area_lazy`: releases the shadow of every freed vmalloc area
    /// waiting (pages no live area shares go back: unmapped) when it is on demand, and
    /// returns their addresses to the vmalloc space. One already purging (another
    /// thread) takes the whole queue; an area whose release finds the lock held by
    /// this thread's own interrupted call waits for the next purge.
    pub fn purge_vmalloc(&self) {
        // Acquire pairs with the Release CAS in `queue_purge`.
        let head = self.vmalloc.lazy.swap(0, Ordering::Acquire);
        if head == 0 {
            return;
        }
        // The list is ours now: walked once to release the shadow of every area
        // (one lock, neighbours' pages unmapped together), once to return them.
        let areas = || {
            let mut at = head;
            core::iter::from_fn(move || {
                let run = self.arenas.vmap.run_of(at)?;
                at = run.header().next_partial.load(Ordering::Relaxed);
                Some(run)
            })
        };
        let spans = areas().map(|run| {
            let n = run.header().pages.load(Ordering::Relaxed) as usize;
            self.mode.shadow_span(run.start(), n * PAGE_SIZE)
        });
        let released = match (self.host.vmalloc_shadow(), self.mode.shadow_pages()) {
            (Some(v), Some(pages)) if v.enabled() => v.release_all(pages, spans).is_ok(),
            // The shadow is always mapped: only the addresses go back.
            _ => true,
        };
        if !released {
            // A nested purge (signal handler) found the lock held by its own thread:
            // the whole batch goes back on the queue for the next purge.
            let mut tail = head;
            for run in areas() {
                tail = run.start();
            }
            if let Some(tail) = self.arenas.vmap.run_of(tail) {
                self.push_lazy(head, tail.header());
            }
            return;
        }
        let mut at = head;
        while let Some(run) = self.arenas.vmap.run_of(at) {
            let h = run.header();
            at = h.next_partial.load(Ordering::Relaxed);
            let n = h.pages.load(Ordering::Relaxed) as usize;
            self.vmalloc.lazy_pages.fetch_sub(n, Ordering::Relaxed);
            // Its memory went back when it was queued.
            self.arenas.vmap.free_run(run, |_, _| {}, |_, _| {});
        }
    }

    /// Gives the heap its vmalloc space: `[base, base + size)`, whose shadow the host
    /// populates on demand when [`Host::vmalloc_shadow`] says so. `checked` is
    /// `kasan.vmalloc`: off leaves vmalloc memory's shadow untouched (zero: unchecked,
    /// a kernel without `CONFIG_KASAN_VMALLOC`).
    ///
    /// # Safety
    ///
    /// As [`Heap::init`], for the vmalloc space; called before any allocation.
    pub unsafe fn init_vmalloc(&self, base: usize, size: usize, checked: bool) {
        self.vmalloc.checked.store(checked, Ordering::Relaxed);
        // SAFETY: forwarded from the caller.
        unsafe { self.arenas.vmap.init(base, size) };
    }

    /// Marks the main arena's never-used memory free `bytes` ahead of the last run
    /// (see [`crate::pages::Arena::set_fresh_ahead`]); before any allocation.
    pub fn set_fresh_ahead(&self, bytes: usize) {
        self.arenas.main.set_fresh_ahead(bytes);
    }

    /// The main arena's head map (allocator metadata; the runtime poisons its shadow
    /// so that wild accesses into it are reported).
    pub fn head_map(&self) -> (usize, usize) {
        self.arenas.main.head_map()
    }

    /// The memory of the main arena and of the vmalloc space, `[base, end)` each,
    /// where set up: what a program's own mappings must not land on unasked.
    pub fn arena_ranges(&self) -> [Option<(usize, usize)>; 2] {
        [self.arenas.main.range(), self.arenas.vmap.range()]
    }

    /// Hands the pages of `[lo, hi)` (page-aligned, in the main arena) to a mapping of
    /// the program's own (`mmap(MAP_FIXED)` over freed heap memory): they leave the
    /// arena ([`crate::pages::Arena::withdraw`]) and their shadow says accessible, as
    /// ASan's `mmap` interceptor leaves a mapping's. Refused, changing nothing, when a
    /// page is in a live or quarantined block or is allocator metadata.
    pub fn withdraw(&self, lo: usize, hi: usize) -> Result<(), WithdrawError> {
        self.arenas
            .main
            .withdraw(lo, hi, |a, l| self.poison_fresh(a, l))?;
        self.mode.unpoison_range(lo, hi - lo);
        Ok(())
    }

    /// Takes back the withdrawn pages of `[lo, hi)` (the program's mapping is gone and
    /// zeroed memory is mapped there again): free pages once more, poisoned as never
    /// used, their shadow shared again where it can be. False if this thread holds
    /// the arena lock (a signal handler interrupted it): the pages stay withdrawn.
    pub fn restore(&self, lo: usize, hi: usize) -> bool {
        self.arenas.main.restore(lo, hi, |(a, b), merged| {
            self.mode.poison_fresh(a, b - a);
            self.mode.release_free(merged, (a, b));
        })
    }

    /// Whether the shadow of a block of `cache` is kept (not for vmalloc areas with
    /// `kasan.vmalloc=off`).
    fn shadowed(&self, cache: u32) -> bool {
        // Relaxed: set once before any allocation.
        cache != VMALLOC || self.vmalloc.checked.load(Ordering::Relaxed)
    }

    /// Puts a freed object back on its run's free list (or its pages back). Never
    /// waits on a lock this thread holds: an object released then (from a signal
    /// handler that interrupted the cache) is left on the cache's deferred list for
    /// the lock's next holder, still marked quarantined.
    fn release(&self, addr: usize) {
        let Some(run) = self.arenas.run_of(addr) else {
            return;
        };
        let h = run.header();
        let cache = h.cache.load(Ordering::Relaxed);
        if is_page_backed(cache) {
            self.count_live(false, Self::footprint(run));
            run.meta(0).set_state(State::Free);
            self.free_run(run);
            return;
        }
        self.mode.quarantine_release(addr);
        let Some(slot) = self.slot(cache) else {
            return;
        };
        if self.magazine_push(slot, cache, run, addr) {
            return;
        }
        self.count_live(false, Self::footprint(run));
        let Some(mut lists) = slot.lists.lock_unless_held() else {
            let meta = run.meta(run.slot_of(addr));
            // Relaxed: the CAS publishes.
            let mut head = slot.deferred.load(Ordering::Relaxed);
            loop {
                meta.next.store(head, Ordering::Relaxed);
                // Release pairs with the Acquire swap in `drain_deferred`.
                match slot.deferred.compare_exchange_weak(
                    head,
                    addr,
                    Ordering::Release,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => return,
                    Err(now) => head = now,
                }
            }
        };
        let mut to_free = self.drain_deferred(slot, &mut lists);
        if let Some(r) = self.release_locked(slot, &mut lists, run, addr) {
            r.header().next_partial.store(to_free, Ordering::Relaxed);
            to_free = r.start();
        }
        drop(lists);
        self.free_chain(to_free);
    }

    /// [`Heap::release`] of one of the objects an eviction releases in a row: a
    /// kmalloc-class object goes to the magazines of the CPU slot the session holds
    /// (taken, if it holds none, and given up every [`SESSION_RELEASES`] objects so
    /// other threads on the slot get their turn), one locked instruction per that
    /// many objects instead of one each; anything else, or a slot held by another
    /// thread, takes the ordinary path with no magazine held.
    fn release_in<'a>(&'a self, addr: usize, s: &mut ReleaseSession<'a>) {
        if let Some(run) = self.arenas.run_of(addr) {
            let cache = run.header().cache.load(Ordering::Relaxed);
            if let Some(slot) = self.slot(cache).filter(|_| is_kmalloc_class(cache)) {
                if s.uses >= SESSION_RELEASES {
                    s.guard = None;
                }
                if s.guard.is_none() {
                    s.slot = self.host.cpu() % MAG_CPUS;
                    s.guard = self.percpu[s.slot].try_lock();
                    s.uses = 0;
                }
                if let Some(pc) = s.guard.as_deref_mut() {
                    if self.magazine_push_locked(pc, s.slot, slot, cache, run, addr) {
                        // Nobody pops it before the session lets the slot go.
                        self.mode.quarantine_release(addr);
                        s.uses += 1;
                        return;
                    }
                }
            }
        }
        s.guard = None;
        self.release(addr);
    }

    /// [`Heap::release`] under the cache's lock; returns a run that is to be given
    /// back once the lock is dropped.
    fn release_locked(
        &self,
        slot: &CacheSlot,
        lists: &mut Lists,
        run: Run,
        addr: usize,
    ) -> Option<Run> {
        let h = run.header();
        let i = run.slot_of(addr);
        run.meta(i).set_state(State::Free);
        run.put_free(i);
        let in_use = h.in_use.load(Ordering::Relaxed).checked_sub(1)?;
        h.in_use.store(in_use, Ordering::Relaxed);
        if slot.is_dead() {
            // A destroyed cache: its run goes with its last quarantined object, and
            // the slot with its last run.
            if in_use != 0 {
                return None;
            }
            let runs = slot.runs.load(Ordering::Relaxed).saturating_sub(1);
            slot.runs.store(runs, Ordering::Relaxed);
            if runs == 0 {
                slot.retire();
            }
            return Some(run);
        }
        if h.on_partial.load(Ordering::Relaxed) == 0 {
            // The run goes in front of the current one. A current run with no object
            // in use (it emptied while in front, where it stays) leaves the list first:
            // once behind, no release would ever reach it again, and wholly free runs
            // would pile up in each class, their pages lost to the other classes
            // (SQLite's shell kept 1,100 empty kmalloc-2k runs, 43 MiB, to its exit).
            let mut freed = None;
            if let Some(head) = self.arenas.run_of(lists.partial).filter(|r| {
                r.start() == lists.partial && r.header().in_use.load(Ordering::Relaxed) == 0
            }) {
                let hh = head.header();
                lists.partial = hh.next_partial.load(Ordering::Relaxed);
                hh.on_partial.store(0, Ordering::Relaxed);
                freed = self.spare_or_free(slot, lists, head);
            }
            h.on_partial.store(1, Ordering::Relaxed);
            h.next_partial.store(lists.partial, Ordering::Relaxed);
            lists.partial = run.start();
            return freed;
        } else if in_use == 0 && lists.partial != run.start() {
            // A wholly free run that is not the current one: unlink it and keep it as
            // the spare, or give its pages back.
            let mut prev = lists.partial;
            while let Some(p) = self.arenas.run_of(prev) {
                let p = p.header();
                if p.next_partial.load(Ordering::Relaxed) == run.start() {
                    p.next_partial
                        .store(h.next_partial.load(Ordering::Relaxed), Ordering::Relaxed);
                    break;
                }
                prev = p.next_partial.load(Ordering::Relaxed);
            }
            h.on_partial.store(0, Ordering::Relaxed);
            return self.spare_or_free(slot, lists, run);
        }
        None
    }

    /// A wholly free run taken off the partial list (under the cache's lock): kept as
    /// the class's spare if it has none, or returned to be given back once the lock
    /// is dropped.
    fn spare_or_free(&self, slot: &CacheSlot, lists: &mut Lists, run: Run) -> Option<Run> {
        if lists.spare == 0 {
            lists.spare = run.start();
            None
        } else {
            slot.runs.fetch_sub(1, Ordering::Relaxed);
            Some(run)
        }
    }
}

#[cfg(test)]
impl<H: Host, M: Mode> Heap<H, M> {
    /// Runs `f` holding cache `index`'s lock, as a signal handler interrupting the
    /// cache finds it.
    pub(crate) fn with_cache_locked(&self, index: u32, f: impl FnOnce()) {
        let slot = self.slot(index).unwrap();
        let _g = slot.lists.lock();
        f();
    }

    /// Runs `f` holding the arena's lock.
    pub(crate) fn with_arena_locked(&self, f: impl FnOnce()) {
        self.arenas.main.with_locked(f);
    }

    /// Runs `f` holding this CPU's quarantine queue.
    pub(crate) fn with_quarantine_locked(&self, f: impl FnOnce()) {
        self.quarantine.with_locked(self.host.cpu(), f);
    }

    /// Runs `f` holding every CPU slot's magazines, as a signal handler that
    /// interrupted a magazine operation finds its own.
    pub(crate) fn with_magazines_locked(&self, f: impl FnOnce()) {
        let _g: std::vec::Vec<_> = self.percpu.iter().map(|pc| pc.lock()).collect();
        f();
    }

    /// Whether untagged `object` sits in a magazine.
    pub(crate) fn in_magazine(&self, object: usize) -> bool {
        self.percpu.iter().any(|pc| {
            let pc = pc.lock();
            pc.mags.iter().any(|m| m.objs[..m.n].contains(&object))
        })
    }

    /// Accounts for every slab slot of the main arena (call with no other thread in
    /// the heap): `(in_use, held, in_magazines)`, the runs' `in_use` counts, the
    /// slots allocated, quarantined or pooled, and the objects in magazines, which
    /// must all be `Free`. No object is lost when `in_use == held + in_magazines`.
    pub(crate) fn slab_census(&self) -> (usize, usize, usize) {
        let mut mags = 0;
        for pc in &self.percpu {
            let pc = pc.lock();
            for m in &pc.mags {
                for &o in &m.objs[..m.n] {
                    let run = self.arenas.run_of(o).expect("a magazine object's run");
                    assert_eq!(run.meta(run.slot_of(o)).state(), State::Free);
                }
                mags += m.n;
            }
        }
        let (_, first) = self.arenas.main.head_map();
        let end = self.arenas.main.bump();
        let (mut in_use, mut held, mut at) = (0, 0, first);
        while at < end {
            match self.arenas.main.run_of(at).filter(|r| r.start() == at) {
                Some(run) => {
                    let h = run.header();
                    if !is_page_backed(cache_of(run)) {
                        in_use += h.in_use.load(Ordering::Relaxed) as usize;
                        for i in 0..h.nobj.load(Ordering::Relaxed) as usize {
                            if run.meta(i).state() != State::Free {
                                held += 1;
                            }
                        }
                    }
                    at += h.pages.load(Ordering::Relaxed).max(1) as usize * PAGE_SIZE;
                }
                None => at += PAGE_SIZE,
            }
        }
        (in_use, held, mags)
    }
}

/// A live page-backed block, as [`Heap::page_block`] finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageBlock {
    /// Page allocator memory, a large kmalloc or a vmalloc area.
    pub kind: BlockKind,
    /// The untagged address of its first byte.
    pub start: usize,
    /// The size the program asked for.
    pub len: usize,
    /// The tag its pointer carries (tag modes; generic: the match-all tag).
    pub tag: u8,
}

impl<H: Host, M: Mode> Describe for Heap<H, M> {
    /// The object `addr` (tagged or not) falls in. In tag modes a slab object's tracks
    /// are the stack ring's (the report scans it), so `alloc`/`free` are `None` here;
    /// a page-backed block has its allocation track.
    fn object(&self, addr: usize) -> Option<ObjectInfo> {
        let addr = self.mode.untag(addr);
        let run = self.arenas.run_of(addr)?;
        let h = run.header();
        let i = run.slot_of(addr);
        let meta = run.meta(i);
        let state = meta.state();
        let cache = h.cache.load(Ordering::Relaxed);
        let object = run.object(i);
        let pages = h.pages.load(Ordering::Relaxed) as usize;
        let size = h.big_size.load(Ordering::Relaxed);
        let order = size
            .div_ceil(PAGE_SIZE)
            .max(1)
            .next_power_of_two()
            .trailing_zeros();
        let run_end = run.start() + pages * PAGE_SIZE;
        let page_kind = match cache {
            LARGE => PageKind::LargeKmalloc,
            PAGES => PageKind::Pages,
            VMALLOC => PageKind::Vmalloc,
            _ => PageKind::Slab,
        };
        let page = if is_page_backed(cache) {
            // The object's own pages (after the run's header page), a vmalloc
            // area's without its guard page.
            let guard = usize::from(cache == VMALLOC);
            PageInfo {
                kind: page_kind,
                start: object & !(PAGE_SIZE - 1),
                pages: ((run_end - (object & !(PAGE_SIZE - 1))) / PAGE_SIZE).saturating_sub(guard),
                compound: cache == LARGE,
                objects: 0,
                inuse: 0,
                freelist: 0,
                gfp: h.gfp.load(Ordering::Relaxed),
            }
        } else {
            PageInfo {
                kind: page_kind,
                start: run.start(),
                pages,
                compound: pages > 1,
                objects: h.nobj.load(Ordering::Relaxed),
                inuse: h.in_use.load(Ordering::Relaxed),
                freelist: run.first_free().map_or(0, |i| run.object(i)),
                gfp: 0,
            }
        };
        let (name, backing) = match cache {
            LARGE | PAGES => (Name::new("kmalloc-large"), Backing::Pages(order)),
            VMALLOC => (
                Name::new("vmalloc"),
                Backing::Vmalloc {
                    start: object,
                    end: run.start() + pages * PAGE_SIZE,
                },
            ),
            c => (self.config(c)?.name, Backing::Slab),
        };
        let alloc_pid = meta.alloc_pid.load(Ordering::Relaxed);
        let alloc_stack = Handle(meta.alloc_stack.load(Ordering::Relaxed));
        let info = run.info(i);
        let (acpu, atime) = unpack_info(info.map_or(0, |x| x.alloc_info.load(Ordering::Relaxed)));
        let tracked = M::OBJECT_TRACKS || is_page_backed(cache);
        let alloc = (tracked && (alloc_pid != 0 || alloc_stack.is_some())).then_some(Track {
            pid: alloc_pid,
            stack: alloc_stack,
            cpu: acpu,
            time_ns: atime,
        });
        let freed = state != State::Allocated;
        let free_pid = meta.free_pid.load(Ordering::Relaxed);
        let free_stack = Handle(meta.free_stack.load(Ordering::Relaxed));
        let (fcpu, ftime) = unpack_info(info.map_or(0, |x| x.free_info.load(Ordering::Relaxed)));
        let free = (freed && (free_pid != 0 || free_stack.is_some())).then_some(Track {
            pid: free_pid,
            stack: free_stack,
            cpu: fcpu,
            time_ns: ftime,
        });
        Some(ObjectInfo {
            cache: name,
            object,
            // A page-backed object's size is what was asked for (its pages).
            object_size: if is_page_backed(cache) {
                size
            } else {
                self.object_size(run)
            },
            backing,
            freed,
            alloc,
            free,
            aux: [
                Handle(meta.aux[0].load(Ordering::Relaxed)),
                Handle(meta.aux[1].load(Ordering::Relaxed)),
            ],
            page,
        })
    }

    fn stack_bounds(&self) -> Option<(usize, usize)> {
        None
    }
}

#[cfg(test)]
#[test]
fn small_class_agrees_with_the_size_list() {
    for size in 0..=KMALLOC_MAX_CACHE_SIZE + 1 {
        let expect = KMALLOC_SIZES.iter().position(|&c| c >= size);
        assert_eq!(small_class(size), expect, "size {size}");
    }
}

/// Linux's `GFP_KERNEL`.
pub const GFP_KERNEL: u32 = 0xcc0;
/// Linux's `__GFP_COMP`.
const GFP_COMP: u32 = 0x40000;
/// Linux's `__GFP_HIGHMEM`.
const GFP_HIGHMEM: u32 = 0x2;
/// Linux's `__GFP_ZERO`.
const GFP_ZERO: u32 = 0x100;

/// Rounds `size` up to the granule (for callers checking redzone placement).
pub const fn granule_round(size: usize) -> usize {
    size.next_multiple_of(GRANULE_SIZE)
}

/// The heap as the quarantine's owner: batches from the host, objects back to their
/// runs.
impl<H: Host, M: Mode> crate::quarantine::Owner for Heap<H, M> {
    fn map(&self, bytes: usize) -> Option<usize> {
        self.host.map(bytes)
    }

    /// Its stages: the object's head-map entry, then its run's header, then its
    /// metadata and shadow (each stage reads only what the one before loaded).
    fn ahead(&self, obj: usize, stage: crate::quarantine::Ahead) {
        use crate::quarantine::Ahead;
        match stage {
            Ahead::Head => self.arenas.prefetch(obj),
            Ahead::Run => self.arenas.prefetch_run(obj),
            Ahead::Meta => self.prefetch_object(obj),
        }
    }

    fn release(&self, obj: usize) {
        Heap::release(self, obj);
    }

    fn counted_bytes(&self) -> Option<usize> {
        Some(Heap::counted_bytes(self))
    }

    fn release_many(&self, objs: &mut dyn Iterator<Item = usize>) {
        let mut session = ReleaseSession {
            guard: None,
            uses: 0,
            slot: 0,
        };
        for obj in objs {
            self.release_in(obj, &mut session);
        }
    }
}

/// The magazines an eviction keeps locked from one release to the next
/// ([`Heap::release_in`]).
struct ReleaseSession<'a> {
    guard: Option<kasan_core::sync::TryGuard<'a, CpuCache>>,
    /// Objects released under `guard`.
    uses: usize,
    /// The magazine slot `guard` holds.
    slot: usize,
}

/// What a live object of a slab cache configured as `c` holds: its slot and its
/// metadata outside the slot (as [`Heap::footprint`] reads it from a run).
fn slab_footprint(c: &CacheConfig) -> usize {
    c.slot
        + core::mem::size_of::<crate::pages::ObjMeta>()
        + if c.info {
            core::mem::size_of::<crate::pages::ObjInfo>()
        } else {
            0
        }
}

/// Objects an eviction releases under one hold of a CPU slot's magazines.
const SESSION_RELEASES: usize = 32;
