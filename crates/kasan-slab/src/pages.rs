//! The page layer under every allocator: an arena of 4 KiB pages handed out in runs,
//! the per-page "head" map that leads from any address to the run holding it, and the
//! run header that describes the run's objects.
//!
//! ```text
//!  arena:  | head map (4 bytes a page) | run | run | free run | run | ... bump -> |
//!  run:    | header: RunHeader + ObjMeta[nobj] (poisoned) | objects ...          |
//! ```
//!
//! Headers live in the run itself, before the first object and poisoned, so a program
//! that overflows into one is reported before it can corrupt it; and they are found
//! from any address in the run through the head map, without locks.
//!
//! Also here, as memory this layer owns: the [`Batch`]es of object addresses the
//! quarantine queues are made of, from a [`BatchPool`] of pages kept for the heap's
//! life.
//!
//! # Safety
//!
//! This module owns the raw memory of the arena. [`Arena::init`] takes the promise
//! that `[base, base + size)` is mapped, zeroed on first touch and owned by the arena;
//! all pointer arithmetic below stays inside that range.
#![allow(unsafe_code)]

use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};

use kasan_core::sync::SpinLock;

/// The page size.
pub const PAGE_SIZE: usize = 4096;
/// Marks a live run header.
const RUN_MAGIC: u32 = 0x4b41_534e; // "KASN"

/// Per-object metadata, out of the object's reach. All fields are atomics so that a
/// report on one thread may read what another thread writes (racy but never UB).
#[derive(Debug, Default)]
#[repr(C)]
pub struct ObjMeta {
    /// Allocating task.
    pub alloc_pid: AtomicU32,
    /// Allocation stack (depot handle).
    pub alloc_stack: AtomicU32,
    /// Freeing task.
    pub free_pid: AtomicU32,
    /// Free stack (depot handle); 0 while the object is live.
    pub free_stack: AtomicU32,
    /// Aux stacks, newest first.
    pub aux: [AtomicU32; 2],
    /// Requested size.
    pub size: AtomicU32,
    /// [`State`] in the low byte, bit 8 "freed once" (tag modes), the slot's last tag
    /// (tag modes) in the top byte.
    pub state: AtomicU32,
    /// Link in the slab's free list or in the quarantine (an object address).
    pub next: AtomicUsize,
}

/// The CPU and time of an object's allocation and free (Linux's
/// `CONFIG_KASAN_EXTRA_INFO`), kept beside [`ObjMeta`] only in runs made with room
/// for it ([`Run::info`]): slab runs while `kasan.extra_info` is on
/// ([`set_extra_info`]), and every page-backed block (page_owner's `ts`). 16 bytes an
/// object that the other runs do not pay.
#[derive(Debug, Default)]
#[repr(C)]
pub struct ObjInfo {
    /// CPU (high 20 bits) and time in microseconds (low 44 bits) of the allocation.
    pub alloc_info: AtomicU64,
    /// The same for the free.
    pub free_info: AtomicU64,
}

/// Whether slab caches made from now on keep an [`ObjInfo`] per object.
static EXTRA_INFO: AtomicBool = AtomicBool::new(false);

/// Sets whether slab caches made from now on keep the CPU and time of each
/// allocation and free (`kasan.extra_info`); called once at start-up, before the
/// kmalloc caches are made.
pub fn set_extra_info(on: bool) {
    // Relaxed: read by cache creation on the same thread at start-up, or later
    // under the cache table's lock.
    EXTRA_INFO.store(on, Ordering::Relaxed);
}

/// Whether [`set_extra_info`] turned the per-object CPU and time on.
pub fn extra_info() -> bool {
    // Relaxed: see `set_extra_info`.
    EXTRA_INFO.load(Ordering::Relaxed)
}

/// The life of one object slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum State {
    /// Never allocated, or back on the free list after quarantine.
    Free = 0,
    /// Handed out.
    Allocated = 1,
    /// Freed by the program, waiting in quarantine.
    Quarantined = 2,
    /// Returned to a mempool, which keeps it for a later allocation.
    Pooled = 3,
}

/// The low byte of [`ObjMeta::state`]: the [`State`].
const STATE_MASK: u32 = 0xFF;
/// Set in [`ObjMeta::state`] once the slot has been freed (tag modes, whose free
/// tracks live in the stack ring: tells a double free from an invalid one).
const FREED_ONCE: u32 = 1 << 8;
/// The slot's last tag lives in the top byte of [`ObjMeta::state`].
const TAG_SHIFT: u32 = 24;

impl ObjMeta {
    /// The slot's state.
    pub fn state(&self) -> State {
        match self.state.load(Ordering::Relaxed) & STATE_MASK {
            1 => State::Allocated,
            2 => State::Quarantined,
            3 => State::Pooled,
            _ => State::Free,
        }
    }

    /// Sets the slot's state (its tag and freed mark stay). Only for the thread that
    /// owns the slot's change of state (it took the object off a free list or out of
    /// the quarantine): a plain load and store, no read-modify-write. A racing
    /// [`ObjMeta::transition`] (a double free in the program) expects `Allocated`,
    /// which the word never holds between the two, so it cannot slip in and be lost.
    pub fn set_state(&self, state: State) {
        // Relaxed: as in `transition`.
        let w = self.state.load(Ordering::Relaxed);
        self.state
            .store((w & !STATE_MASK) | state as u32, Ordering::Relaxed);
    }

    /// Moves the slot from `from` to `to` if it is in `from` (one winner among
    /// threads racing to free the same object).
    pub fn transition(&self, from: State, to: State) -> bool {
        // Relaxed: the slot's other metadata is ordered by the locks and the
        // quarantine; this only decides which thread goes on.
        self.state
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |w| {
                (w & STATE_MASK == from as u32).then_some((w & !STATE_MASK) | to as u32)
            })
            .is_ok()
    }

    /// The slot's last tag (tag modes; the match-all tag before it had one).
    pub fn tag(&self) -> u8 {
        (self.state.load(Ordering::Relaxed) >> TAG_SHIFT) as u8
    }

    /// Sets the slot's tag.
    pub fn set_tag(&self, tag: u8) {
        // Relaxed: as in `transition`.
        let _ = self
            .state
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |w| {
                Some((w & !(0xFF << TAG_SHIFT)) | (u32::from(tag) << TAG_SHIFT))
            });
    }

    /// Sets the slot's state and tag at once (the freed mark stays). As
    /// [`ObjMeta::set_state`], for the slot's owner only.
    pub fn set_state_tag(&self, state: State, tag: u8) {
        // Relaxed: as in `transition`.
        let w = self.state.load(Ordering::Relaxed);
        self.state.store(
            (w & FREED_ONCE) | state as u32 | (u32::from(tag) << TAG_SHIFT),
            Ordering::Relaxed,
        );
    }

    /// Marks the slot as freed at least once.
    pub fn mark_freed(&self) {
        // Relaxed: as in `transition`.
        self.state.fetch_or(FREED_ONCE, Ordering::Relaxed);
    }

    /// Whether [`ObjMeta::mark_freed`] was called.
    pub fn freed_once(&self) -> bool {
        self.state.load(Ordering::Relaxed) & FREED_ONCE != 0
    }
}

/// The header at the start of every run.
#[derive(Debug)]
#[repr(C)]
pub struct RunHeader {
    magic: AtomicU32,
    /// Index of the owning cache ([`LARGE`] for a page-backed object).
    pub cache: AtomicU32,
    /// Objects in the run.
    pub nobj: AtomicU32,
    /// Pages in the run.
    pub pages: AtomicU32,
    /// Offset of the first object from the run start.
    pub first: AtomicU32,
    /// Distance between objects.
    pub slot: AtomicU32,
    /// Objects currently allocated or quarantined (under the cache lock).
    pub in_use: AtomicU32,
    /// The gfp flags of a page-backed allocation, as Linux's (for page_owner).
    pub gfp: AtomicU32,
    /// The first word of the free map that may have a bit set (under the cache
    /// lock; words before it are all clear).
    pub free_hint: AtomicUsize,
    /// Next run in the cache's partial list (under the cache lock).
    pub next_partial: AtomicUsize,
    /// Whether the run is on the cache's partial list (under the cache lock).
    pub on_partial: AtomicU32,
    /// 1 when an [`ObjInfo`] array follows the object metadata.
    info: AtomicU32,
    /// The requested size of a page-backed object (which may exceed 4 GiB).
    pub big_size: AtomicUsize,
    /// `ceil(2^64 / slot)` (0 for a slot of 0 or 1): [`RunHeader::div_slot`]
    /// divides by a multiply, as Linux's `reciprocal_divide` in `obj_to_index`.
    slot_recip: AtomicU64,
}

impl RunHeader {
    /// `off / slot`. Exact for every 32-bit `off` and `slot` (Lemire, Kaser and
    /// Kurz, "Faster remainder by direct computation", 2019): a multiply instead of a
    /// division (tens of cycles) on every lookup of an object by address.
    #[inline]
    pub fn div_slot(&self, off: usize) -> usize {
        // Relaxed: set before the run is published, as every other field.
        let recip = self.slot_recip.load(Ordering::Relaxed);
        match u32::try_from(off) {
            Ok(off) if recip != 0 => recip_div(recip, off),
            _ => off / self.slot.load(Ordering::Relaxed).max(1) as usize,
        }
    }
}

/// `off / slot` for `recip = slot_recip(slot)` (non-zero).
#[inline]
pub(crate) fn recip_div(recip: u64, off: u32) -> usize {
    ((u128::from(recip) * u128::from(off)) >> 64) as usize
}

/// `ceil(2^64 / slot)`, or 0 where [`RunHeader::div_slot`] divides (a slot of 0 or 1).
pub(crate) const fn slot_recip(slot: u32) -> u64 {
    if slot <= 1 {
        0
    } else {
        u64::MAX / slot as u64 + 1
    }
}

/// Cache index of a page-backed (large) kmalloc object.
pub const LARGE: u32 = u32::MAX;
/// Cache index of a page-allocator block (`__get_free_pages`).
pub const PAGES: u32 = u32::MAX - 1;
/// Cache index of a vmalloc area.
pub const VMALLOC: u32 = u32::MAX - 2;

/// Whether a run holds one page-backed object rather than slab slots.
pub const fn is_page_backed(cache: u32) -> bool {
    cache >= VMALLOC
}

/// Bytes of header a run of `nobj` objects needs, with an [`ObjInfo`] per object
/// when `info`.
pub const fn header_size(nobj: usize, info: bool) -> usize {
    free_map_offset(nobj, info) + nobj.div_ceil(64) * 8
}

/// Where a run's free map starts: after its header, its metadata and its
/// [`ObjInfo`]s.
const fn free_map_offset(nobj: usize, info: bool) -> usize {
    let infos = if info {
        nobj * core::mem::size_of::<ObjInfo>()
    } else {
        0
    };
    core::mem::size_of::<RunHeader>() + nobj * core::mem::size_of::<ObjMeta>() + infos
}

/// The shape of a new run: `pages` pages for `nobj` objects, the first at `first`
/// bytes from the start, `slot` bytes apart, with an [`ObjInfo`] per object when
/// `info`.
#[derive(Debug, Clone, Copy)]
pub struct RunShape {
    /// Pages in the run.
    pub pages: usize,
    /// Objects in the run.
    pub nobj: usize,
    /// Offset of the first object.
    pub first: usize,
    /// Distance between objects.
    pub slot: usize,
    /// Whether the header keeps an [`ObjInfo`] per object.
    pub info: bool,
}

impl RunShape {
    /// A page-backed block of `pages` pages: one object from the second page on,
    /// with its [`ObjInfo`] (page_owner's `ts`).
    pub const fn block(pages: usize) -> RunShape {
        RunShape {
            pages,
            nobj: 1,
            first: PAGE_SIZE,
            slot: PAGE_SIZE,
            info: true,
        }
    }
}

/// A run: a header pointer that has been checked to be inside the arena.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    start: usize,
}

impl Run {
    /// The run's first address.
    pub fn start(self) -> usize {
        self.start
    }

    /// The run's header.
    pub fn header(self) -> &'static RunHeader {
        // SAFETY: `Run`s are only made for addresses inside the arena at a page
        // boundary where a header was written (`Arena::run_of`, `Arena::new_run`); the
        // arena is never unmapped, and the header is all atomics.
        unsafe { &*(self.start as *const RunHeader) }
    }

    /// Metadata of object `i` (`i < nobj`).
    pub fn meta(self, i: usize) -> &'static ObjMeta {
        debug_assert!(i < self.header().nobj.load(Ordering::Relaxed) as usize);
        // SAFETY: the header was sized for `nobj` entries (`header_size`) when the run
        // was made, and `i < nobj`; entries are all atomics.
        unsafe { &*((self.start + core::mem::size_of::<RunHeader>()) as *const ObjMeta).add(i) }
    }

    /// The CPU and time of object `i`'s allocation and free, where the run keeps
    /// them (`i < nobj`).
    pub fn info(self, i: usize) -> Option<&'static ObjInfo> {
        let h = self.header();
        if h.info.load(Ordering::Relaxed) == 0 {
            return None;
        }
        let nobj = h.nobj.load(Ordering::Relaxed) as usize;
        debug_assert!(i < nobj);
        let base = self.start + free_map_offset(nobj, false);
        // SAFETY: a run marked `info` was made with `header_size(nobj, true)` bytes of
        // header (`Arena::new_run`): `nobj` entries follow the metadata, `i < nobj`;
        // entries are all atomics.
        Some(unsafe { &*(base as *const ObjInfo).add(i.min(nobj.saturating_sub(1))) })
    }

    /// The run's free map: bit `i % 64` of word `i / 64` set while slot `i` is on
    /// the run's free list (changed under the cache lock).
    pub fn free_map(self) -> &'static [AtomicU64] {
        let h = self.header();
        let nobj = h.nobj.load(Ordering::Relaxed) as usize;
        let base = self.start + free_map_offset(nobj, h.info.load(Ordering::Relaxed) != 0);
        // SAFETY: the header was sized for `nobj` objects (`header_size`, which ends
        // with the map) when the run was made, and zeroed; words are atomics, 8-byte
        // aligned (every part before the map is a multiple of 8 bytes).
        unsafe { core::slice::from_raw_parts(base as *const AtomicU64, nobj.div_ceil(64)) }
    }

    /// Takes the lowest free slot off the free map, if any (under the cache lock).
    #[inline]
    pub fn take_free(self) -> Option<usize> {
        let h = self.header();
        let map = self.free_map();
        // Relaxed: the map and its hint change only under the cache lock.
        let mut w = h.free_hint.load(Ordering::Relaxed);
        while let Some(word) = map.get(w) {
            let bits = word.load(Ordering::Relaxed);
            if bits != 0 {
                let b = bits.trailing_zeros() as usize;
                word.store(bits & !(1 << b), Ordering::Relaxed);
                h.free_hint.store(w, Ordering::Relaxed);
                return Some(w * 64 + b);
            }
            w += 1;
        }
        h.free_hint.store(map.len(), Ordering::Relaxed);
        None
    }

    /// Puts slot `i` on the free map (under the cache lock).
    #[inline]
    pub fn put_free(self, i: usize) {
        let h = self.header();
        let Some(word) = self.free_map().get(i / 64) else {
            return;
        };
        // Relaxed: as in `take_free`.
        word.store(
            word.load(Ordering::Relaxed) | 1 << (i % 64),
            Ordering::Relaxed,
        );
        if i / 64 < h.free_hint.load(Ordering::Relaxed) {
            h.free_hint.store(i / 64, Ordering::Relaxed);
        }
    }

    /// The lowest free slot on the free map, if any (a report's `freelist`).
    pub fn first_free(self) -> Option<usize> {
        self.free_map().iter().enumerate().find_map(|(w, word)| {
            // Relaxed: a report's snapshot.
            let bits = word.load(Ordering::Relaxed);
            (bits != 0).then(|| w * 64 + bits.trailing_zeros() as usize)
        })
    }

    /// The address of object `i`.
    pub fn object(self, i: usize) -> usize {
        let h = self.header();
        self.start
            + h.first.load(Ordering::Relaxed) as usize
            + i * h.slot.load(Ordering::Relaxed) as usize
    }

    /// The index of the slot holding `addr`: addresses in the header count as object
    /// 0 (its left redzone), addresses past the last slot as the last object.
    pub fn slot_of(self, addr: usize) -> usize {
        let h = self.header();
        let first = self.start + h.first.load(Ordering::Relaxed) as usize;
        let nobj = h.nobj.load(Ordering::Relaxed) as usize;
        if addr < first || nobj == 0 {
            return 0;
        }
        h.div_slot(addr - first).min(nobj - 1)
    }

    /// The index of the object starting exactly at `addr`, if any.
    pub fn index_of(self, addr: usize) -> Option<usize> {
        let h = self.header();
        let first = self.start + h.first.load(Ordering::Relaxed) as usize;
        let slot = h.slot.load(Ordering::Relaxed) as usize;
        let off = addr.checked_sub(first)?;
        let i = h.div_slot(off);
        (i * slot == off && i < h.nobj.load(Ordering::Relaxed) as usize).then_some(i)
    }
}

/// Why the arena could not hand out pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageError {
    /// No room left.
    Full,
    /// This thread holds the arena lock already (a signal handler interrupted it).
    Busy,
}

/// The free runs. A free run's first page holds `[next, prev, pages]` (its links in
/// the list of its size), and the head-map entries of its first and last pages hold
/// `FREE_TAG | pages` (boundary tags), so a freed run finds free neighbours on both
/// sides in constant time and merges with them.
struct Free {
    /// Doubly linked free lists for runs of exactly 1..=SMALL_RUNS pages.
    small: [usize; SMALL_RUNS + 1],
    /// Bit `k - 1` set when `small[k]` is not empty.
    nonempty: u64,
    /// Larger free runs, first fit.
    large: usize,
    /// The first never-used page (runs that end here are merged back into it).
    bump: usize,
    /// Fresh memory below this has been handed to `on_fresh` (poisoned as free).
    fresh: usize,
    /// The first page runs may use (after the head map).
    start: usize,
}

const SMALL_RUNS: usize = 64;
/// How far ahead of the bump fresh memory is marked, unless the heap says otherwise
/// ([`Arena::set_fresh_ahead`]).
const FRESH_AHEAD: usize = 1 << 20;
/// Runs this long (256 KiB) or longer give their memory back when freed.
pub const DISCARD_PAGES: usize = 64;
/// Marks a head-map entry as a free run's boundary tag (low bits: its pages).
const FREE_TAG: u32 = 1 << 31;
/// The head-map entry of a page withdrawn from the arena because the program mapped
/// memory of its own over it ([`Arena::withdraw`]): in no run, not free. Run heads
/// are page numbers + 1, below 2^28 for the largest arena, so never this value.
const FOREIGN: u32 = !FREE_TAG;

/// Why pages could not be withdrawn from the arena.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WithdrawError {
    /// The page at this address is in a live run (an object, a block, a slab).
    Live(usize),
    /// The range reaches into the head map (allocator metadata).
    Metadata,
    /// This thread holds the arena lock already (a signal handler interrupted it).
    Busy,
}

/// The page arena.
pub struct Arena {
    base: AtomicUsize,
    end: AtomicUsize,
    free: SpinLock<Free>,
    /// Runs freed while this thread held `free` (a signal handler interrupted the
    /// arena), linked through their first word; merged in by the next holder.
    pending: AtomicUsize,
    /// How far ahead of the bump never-used memory is marked free.
    fresh_ahead: AtomicUsize,
    /// Pages handed out in runs.
    pub used_pages: AtomicUsize,
}

impl core::fmt::Debug for Arena {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Arena")
            .field("base", &self.base)
            .field("end", &self.end)
            .finish_non_exhaustive()
    }
}

impl Default for Arena {
    fn default() -> Self {
        Self::new()
    }
}

/// Word `i` of a free run's first page.
///
/// # Safety
///
/// `run` must be a free run inside the arena (its first page is the arena's alone,
/// under the arena lock or before the run is linked anywhere).
unsafe fn word(run: usize, i: usize) -> *mut usize {
    (run + 8 * i) as *mut usize
}

impl Arena {
    /// An arena with no memory yet.
    pub const fn new() -> Arena {
        Arena {
            base: AtomicUsize::new(0),
            end: AtomicUsize::new(0),
            free: SpinLock::new(Free {
                small: [0; SMALL_RUNS + 1],
                nonempty: 0,
                large: 0,
                bump: 0,
                fresh: 0,
                start: 0,
            }),
            pending: AtomicUsize::new(0),
            fresh_ahead: AtomicUsize::new(FRESH_AHEAD),
            used_pages: AtomicUsize::new(0),
        }
    }

    /// Gives the arena its memory.
    ///
    /// # Safety
    ///
    /// `[base, base + size)` must be page-aligned, readable and writable, read as zero
    /// until written, stay mapped for the arena's life, and be used by nothing else.
    pub unsafe fn init(&self, base: usize, size: usize) {
        let pages = size / PAGE_SIZE;
        let map_pages = (pages * 4).div_ceil(PAGE_SIZE);
        {
            let mut free = self.free.lock();
            free.bump = base + map_pages * PAGE_SIZE;
            free.start = free.bump;
        }
        self.end.store(base + pages * PAGE_SIZE, Ordering::Relaxed);
        // Release pairs with the Acquire in `contains`: a thread that sees the base
        // sees the arena's fields set.
        self.base.store(base, Ordering::Release);
    }

    /// Takes the arena's lock and keeps it (see `Heap::lock_all`).
    pub fn lock_all(&self) {
        core::mem::forget(self.free.lock());
    }

    /// Releases the lock taken by [`Arena::lock_all`].
    ///
    /// # Safety
    ///
    /// The caller must hold it through `lock_all`.
    pub unsafe fn unlock_all(&self) {
        // SAFETY: forwarded from the caller.
        unsafe { self.free.force_unlock() };
    }

    /// The first address never handed out in a run (after merging, the end of the
    /// last run in use).
    pub fn bump(&self) -> usize {
        self.free.lock().bump
    }

    /// The end of the arena.
    pub fn end(&self) -> usize {
        self.end.load(Ordering::Relaxed)
    }

    /// Whether `addr` is inside the arena's run area.
    pub fn contains(&self, addr: usize) -> bool {
        // Acquire: see `init`.
        let base = self.base.load(Ordering::Acquire);
        base != 0 && addr >= base && addr < self.end.load(Ordering::Relaxed)
    }

    fn head_slot(&self, addr: usize) -> &AtomicU32 {
        let base = self.base.load(Ordering::Relaxed);
        let page = (addr - base) / PAGE_SIZE;
        // SAFETY: `addr` is inside the arena (callers check `contains`), so `page` is
        // below the page count and its 4-byte entry lies in the head map at `base`,
        // which `init` reserved for it.
        unsafe { &*(base as *const AtomicU32).add(page) }
    }

    /// The run holding `addr`, if `addr` is in a live run.
    pub fn run_of(&self, addr: usize) -> Option<Run> {
        if !self.contains(addr) {
            return None;
        }
        // Acquire pairs with the Release in `set_heads`: the header is written.
        let start = self.run_start(self.head_slot(addr).load(Ordering::Acquire))?;
        let run = Run { start };
        (run.header().magic.load(Ordering::Relaxed) == RUN_MAGIC).then_some(run)
    }

    /// The first address of the run a head-map entry names, if it names one (not a
    /// free run's tag, not a withdrawn page, not an unused page).
    fn run_start(&self, head: u32) -> Option<usize> {
        (head != 0 && head & FREE_TAG == 0 && head != FOREIGN)
            .then(|| self.base.load(Ordering::Relaxed) + (head as usize - 1) * PAGE_SIZE)
    }

    fn set_heads(&self, start: usize, pages: usize, value: u32) {
        for p in 0..pages {
            // Release pairs with the Acquire in `run_of`.
            self.head_slot(start + p * PAGE_SIZE)
                .store(value, Ordering::Release);
        }
    }

    /// The boundary tag at the page holding `addr`: a free run's pages, if the page is
    /// the first or last of one.
    fn tag_at(&self, addr: usize) -> Option<usize> {
        // Relaxed: tags change only under the arena lock, which callers hold.
        let head = self.head_slot(addr).load(Ordering::Relaxed);
        (head & FREE_TAG != 0).then_some((head & !FREE_TAG) as usize)
    }

    fn set_tags(&self, run: usize, pages: usize, value: u32) {
        // Relaxed: `run_of` reads a tag only to learn the page is not in a live run.
        self.head_slot(run).store(value, Ordering::Relaxed);
        self.head_slot(run + (pages - 1) * PAGE_SIZE)
            .store(value, Ordering::Relaxed);
    }

    /// Links a free run into its list and tags it (under the lock).
    fn link(&self, free: &mut Free, run: usize, pages: usize) {
        let head = if pages <= SMALL_RUNS {
            free.nonempty |= 1 << (pages - 1);
            &mut free.small[pages]
        } else {
            &mut free.large
        };
        // SAFETY: `run` and the old head are free runs in the arena, ours under the
        // lock; their first words hold the links.
        unsafe {
            *word(run, 0) = *head;
            *word(run, 1) = 0;
            *word(run, 2) = pages;
            if *head != 0 {
                *word(*head, 1) = run;
            }
        }
        *head = run;
        self.set_tags(run, pages, FREE_TAG | pages as u32);
    }

    /// Takes a free run out of its list and clears its tags (under the lock).
    fn unlink(&self, free: &mut Free, run: usize, pages: usize) {
        // SAFETY: `run` is a linked free run; its neighbours in the list are too.
        unsafe {
            let (next, prev) = (*word(run, 0), *word(run, 1));
            if next != 0 {
                *word(next, 1) = prev;
            }
            if prev != 0 {
                *word(prev, 0) = next;
            } else if pages <= SMALL_RUNS {
                free.small[pages] = next;
                if next == 0 {
                    free.nonempty &= !(1 << (pages - 1));
                }
            } else {
                free.large = next;
            }
        }
        self.set_tags(run, pages, 0);
    }

    /// Gives back `pages` pages at `run`, merged with the free runs on either side
    /// (or into the never-used space, if they end at the bump).
    fn put_free(&self, free: &mut Free, mut run: usize, mut pages: usize) -> (usize, usize) {
        if run > free.start {
            if let Some(n) = self.tag_at(run - PAGE_SIZE) {
                let left = run - n * PAGE_SIZE;
                self.unlink(free, left, n);
                run = left;
                pages += n;
            }
        }
        let end = run + pages * PAGE_SIZE;
        if end == free.bump {
            free.bump = run;
            // Never-used memory from here on, marked free up to `fresh`.
            return (run, free.fresh.max(end));
        }
        if let Some(n) = self.tag_at(end) {
            self.unlink(free, end, n);
            pages += n;
        }
        self.link(free, run, pages);
        (run, run + pages * PAGE_SIZE)
    }

    /// Merges the runs freed while the lock was busy with this thread (under it).
    fn drain_pending(&self, free: &mut Free) {
        // Relaxed pre-check; Acquire pairs with the Release push in `free_run`: the
        // run's words written before the push are visible.
        if self.pending.load(Ordering::Relaxed) == 0 {
            return;
        }
        let mut run = self.pending.swap(0, Ordering::Acquire);
        while run != 0 {
            // SAFETY: pending runs are free runs of the arena, written by `free_run`.
            let (next, pages) = unsafe { (*word(run, 0), *word(run, 2)) };
            let _ = self.put_free(free, run, pages);
            run = next;
        }
    }

    /// Takes `pages` pages whose start plus `skew` bytes is a multiple of `align` (a
    /// power of two, a page at least; `skew` a multiple of the page size below it).
    /// The pages an aligned run skips stay free: split off the free run it came from,
    /// or left as a free run below it in never-used memory.
    fn take_pages(
        &self,
        pages: usize,
        align: usize,
        skew: usize,
        mut on_fresh: impl FnMut(usize, usize),
    ) -> Result<usize, PageError> {
        if pages == 0 || !align.is_power_of_two() || align < PAGE_SIZE {
            return Err(PageError::Full);
        }
        // Where a run at `at` would start once aligned.
        let aligned = |at: usize| (at + skew).next_multiple_of(align) - skew;
        let mut free = self.free.lock_unless_held().ok_or(PageError::Busy)?;
        self.drain_pending(&mut free);
        // The smallest exact-size list that surely fits (`need` pages: the run and
        // the most an alignment can skip), then the first large run that does.
        let need = pages.saturating_add(align / PAGE_SIZE - 1);
        let fits = if need <= SMALL_RUNS {
            free.nonempty & (u64::MAX << (need - 1))
        } else {
            0
        };
        let found = if fits != 0 {
            let n = fits.trailing_zeros() as usize + 1;
            Some((free.small[n], n))
        } else {
            let mut run = free.large;
            loop {
                if run == 0 {
                    break None;
                }
                // SAFETY: a linked free run; its words hold the links and size.
                let (next, n) = unsafe { (*word(run, 0), *word(run, 2)) };
                if (aligned(run) - run) / PAGE_SIZE + pages <= n {
                    break Some((run, n));
                }
                run = next;
            }
        };
        if let Some((run, n)) = found {
            self.unlink(&mut free, run, n);
            let start = aligned(run);
            let lead = (start - run) / PAGE_SIZE;
            // What is left on either side stays free; neither side has a free
            // neighbour beyond it (it would have been merged into this run).
            if lead > 0 {
                self.link(&mut free, run, lead);
            }
            if n > lead + pages {
                self.link(&mut free, start + pages * PAGE_SIZE, n - lead - pages);
            }
            return Ok(start);
        }
        let bump = free.bump;
        let run = bump
            .checked_add(skew + align - 1)
            .map(|_| aligned(bump))
            .ok_or(PageError::Full)?;
        let end = pages
            .checked_mul(PAGE_SIZE)
            .and_then(|len| run.checked_add(len))
            .ok_or(PageError::Full)?;
        let arena_end = self.end.load(Ordering::Relaxed);
        if end > arena_end {
            return Err(PageError::Full);
        }
        free.bump = end;
        // Keep never-used memory ahead of the bump marked as free pages, so an
        // overflow past the last run is caught. Done under the lock: nobody can be
        // handed those pages while they are being marked. The pages an alignment
        // skipped are marked too, and become a free run.
        let unmarked = free.fresh.max(bump);
        if run > unmarked {
            on_fresh(unmarked, run - unmarked);
        }
        if end + PAGE_SIZE > free.fresh {
            let from = free.fresh.max(end);
            // Relaxed: set once at start-up.
            let ahead = self.fresh_ahead.load(Ordering::Relaxed);
            let to = end.saturating_add(ahead).min(arena_end);
            if to > from {
                on_fresh(from, to - from);
            }
            free.fresh = to;
        }
        if run > bump {
            self.link(&mut free, bump, (run - bump) / PAGE_SIZE);
        }
        Ok(run)
    }

    /// Makes a run of cache `cache` shaped as `shape` says. The header is zeroed and
    /// filled; object metadata starts zeroed (state `Free`). `on_fresh` is called,
    /// under the arena lock, with never-used memory about to lie ahead of the runs.
    pub fn new_run(
        &self,
        shape: RunShape,
        cache: u32,
        on_fresh: impl FnMut(usize, usize),
    ) -> Result<Run, PageError> {
        self.new_run_aligned(shape, cache, PAGE_SIZE, on_fresh)
    }

    /// [`Arena::new_run`] for a run whose first object's address is a multiple of
    /// `align` (a power of two, a page at least): the pages before it that the
    /// alignment skips are not part of the run but stay free memory (as Linux leaves
    /// the gap before an aligned vmalloc area free address space).
    pub fn new_run_aligned(
        &self,
        shape: RunShape,
        cache: u32,
        align: usize,
        on_fresh: impl FnMut(usize, usize),
    ) -> Result<Run, PageError> {
        let RunShape {
            pages,
            nobj,
            first,
            slot,
            info,
        } = shape;
        if header_size(nobj, info) > first || first > pages.saturating_mul(PAGE_SIZE) {
            return Err(PageError::Full);
        }
        // The run starts `skew` bytes (whole pages) before a multiple of `align`.
        let skew = if align > PAGE_SIZE { first % align } else { 0 };
        if !skew.is_multiple_of(PAGE_SIZE) {
            return Err(PageError::Full);
        }
        let start = self.take_pages(pages, align, skew, on_fresh)?;
        // SAFETY: the run is ours alone and inside the arena; its header area
        // `[start, start + header_size(nobj, info))` is below `first`, inside the run.
        unsafe { kasan_core::shadow::fill(start, 0, header_size(nobj, info)) };
        let run = Run { start };
        let h = run.header();
        h.info.store(u32::from(info), Ordering::Relaxed);
        h.cache.store(cache, Ordering::Relaxed);
        h.nobj.store(nobj as u32, Ordering::Relaxed);
        h.pages.store(pages as u32, Ordering::Relaxed);
        h.first.store(first as u32, Ordering::Relaxed);
        h.slot.store(slot as u32, Ordering::Relaxed);
        h.slot_recip
            .store(slot_recip(slot as u32), Ordering::Relaxed);
        h.magic.store(RUN_MAGIC, Ordering::Relaxed);
        self.set_heads(
            start,
            pages,
            ((start - self.base.load(Ordering::Relaxed)) / PAGE_SIZE + 1) as u32,
        );
        self.used_pages.fetch_add(pages, Ordering::Relaxed);
        Ok(run)
    }

    /// Returns a run's pages, merged with free neighbours. A run of
    /// [`DISCARD_PAGES`] or more has its object pages passed to `discard` so the host
    /// can give their memory back; smaller runs keep theirs for the next run of that
    /// size (returning and faulting them in again on every reuse would cost more
    /// than the memory is worth). Never waits on a lock this thread holds: a run
    /// freed then (from a signal handler) is merged in by the next holder.
    ///
    /// `merged` is called under the arena lock with the free memory the run is now
    /// part of (merged with its free neighbours; up to the fresh mark when it joined
    /// the never-used space), so the caller may give back the shadow that only free
    /// memory uses (nobody can be handed those pages meanwhile); not called for a run
    /// left pending.
    pub fn free_run(
        &self,
        run: Run,
        discard: impl FnOnce(usize, usize),
        merged: impl FnOnce(usize, usize),
    ) {
        let pages = run.header().pages.load(Ordering::Relaxed) as usize;
        run.header().magic.store(0, Ordering::Relaxed);
        self.set_heads(run.start, pages, 0);
        if pages >= DISCARD_PAGES {
            discard(run.start + PAGE_SIZE, (pages - 1) * PAGE_SIZE);
        }
        self.used_pages.fetch_sub(pages, Ordering::Relaxed);
        match self.free.lock_unless_held() {
            Some(mut free) => {
                self.drain_pending(&mut free);
                let (lo, hi) = self.put_free(&mut free, run.start, pages);
                merged(lo, hi);
            }
            None => {
                // SAFETY: the run is no longer reachable (magic and heads cleared);
                // its first page is ours to hold the pending link and size.
                unsafe { *word(run.start, 2) = pages };
                // Relaxed: the CAS publishes.
                let mut head = self.pending.load(Ordering::Relaxed);
                loop {
                    // SAFETY: as above.
                    unsafe { *word(run.start, 0) = head };
                    // Release pairs with the Acquire swap in `drain_pending`.
                    match self.pending.compare_exchange_weak(
                        head,
                        run.start,
                        Ordering::Release,
                        Ordering::Relaxed,
                    ) {
                        Ok(_) => break,
                        Err(now) => head = now,
                    }
                }
            }
        }
    }

    /// The free run holding page `page` (below the bump, not foreign, under the lock),
    /// as (first page, pages); `None` if the page is in a live run. Interior pages of
    /// a free run have head 0 and its first and last pages carry its tag, and two free
    /// runs are never adjacent (they are merged), so the run is found by walking left.
    fn free_run_at(&self, free: &Free, page: usize) -> Option<(usize, usize)> {
        let head = |p: usize| self.head_slot(p).load(Ordering::Relaxed);
        if let Some(n) = self.tag_at(page) {
            // The run's first or last page: the last one of a longer run has a free
            // page (interior, or the first page's tag) on its left, a first one never.
            let left_free = page > free.start && {
                let h = head(page - PAGE_SIZE);
                h == 0 || h & FREE_TAG != 0
            };
            let first = if n > 1 && left_free {
                page - (n - 1) * PAGE_SIZE
            } else {
                page
            };
            return Some((first, n));
        }
        if head(page) != 0 {
            return None;
        }
        let mut p = page;
        while p > free.start {
            p -= PAGE_SIZE;
            if let Some(n) = self.tag_at(p) {
                return (p + n * PAGE_SIZE > page).then_some((p, n));
            }
            if head(p) != 0 {
                return None;
            }
        }
        None
    }

    /// Takes the pages of `[lo, hi)` (page-aligned, inside the arena) out of the
    /// arena, for a mapping of the program's own (`mmap(MAP_FIXED)` over freed heap
    /// memory): every page must be free, never used, or withdrawn already; nothing
    /// changes otherwise. Free runs around the range keep the rest of their pages; the
    /// bump moves past a range that reaches beyond it, and `on_fresh` gets the
    /// never-used memory left between (as `new_run`'s). Withdrawn pages are in no run
    /// and never handed out until [`Arena::restore`].
    pub fn withdraw(
        &self,
        lo: usize,
        hi: usize,
        on_fresh: impl FnOnce(usize, usize),
    ) -> Result<(), WithdrawError> {
        debug_assert!(lo < hi && lo.is_multiple_of(PAGE_SIZE) && hi.is_multiple_of(PAGE_SIZE));
        debug_assert!(self.contains(lo) && hi <= self.end());
        let mut free = self.free.lock_unless_held().ok_or(WithdrawError::Busy)?;
        self.drain_pending(&mut free);
        if lo < free.start {
            return Err(WithdrawError::Metadata);
        }
        let below = hi.min(free.bump);
        // Check every page first, so a refusal changes nothing.
        let mut page = lo;
        while page < below {
            if self.head_slot(page).load(Ordering::Relaxed) == FOREIGN {
                page += PAGE_SIZE;
                continue;
            }
            let (run, n) = self
                .free_run_at(&free, page)
                .ok_or(WithdrawError::Live(page))?;
            page = run + n * PAGE_SIZE;
        }
        let mut page = lo;
        while page < below {
            if self.head_slot(page).load(Ordering::Relaxed) == FOREIGN {
                page += PAGE_SIZE;
                continue;
            }
            let Some((run, n)) = self.free_run_at(&free, page) else {
                unreachable!("checked above, under the same lock");
            };
            let end = run + n * PAGE_SIZE;
            self.unlink(&mut free, run, n);
            // The parts outside the range stay free; their neighbours inside it are
            // foreign now, so they merge with nothing.
            if run < lo {
                self.link(&mut free, run, (lo - run) / PAGE_SIZE);
            }
            if end > hi {
                self.link(&mut free, hi, (end - hi) / PAGE_SIZE);
            }
            let (a, b) = (run.max(lo), end.min(hi));
            self.set_heads(a, (b - a) / PAGE_SIZE, FOREIGN);
            page = b;
        }
        if hi > free.bump {
            let old = free.bump;
            let from = lo.max(old);
            self.set_heads(from, (hi - from) / PAGE_SIZE, FOREIGN);
            free.bump = hi;
            if old < lo {
                // Never-used pages between the old bump and the range: a free run now
                // (the page left of the old bump is never free: it would have merged).
                if lo > free.fresh {
                    let start = free.fresh.max(old);
                    on_fresh(start, lo - start);
                }
                self.link(&mut free, old, (lo - old) / PAGE_SIZE);
            }
            free.fresh = free.fresh.max(hi);
        }
        Ok(())
    }

    /// Gives the withdrawn pages of `[lo, hi)` back to the arena (the program's
    /// mapping is gone and fresh zeroed memory is mapped there again), each stretch
    /// merged with its free neighbours. `each(stretch, merged)` is called under the
    /// lock for every stretch of withdrawn pages with the free memory it is now part
    /// of (as `free_run`'s `merged`). Pages of the range that are not withdrawn are
    /// left as they are. False if this thread holds the arena lock already.
    pub fn restore(
        &self,
        lo: usize,
        hi: usize,
        mut each: impl FnMut((usize, usize), (usize, usize)),
    ) -> bool {
        debug_assert!(lo < hi && lo.is_multiple_of(PAGE_SIZE) && hi.is_multiple_of(PAGE_SIZE));
        let Some(mut free) = self.free.lock_unless_held() else {
            return false;
        };
        self.drain_pending(&mut free);
        let foreign = |p: usize| self.head_slot(p).load(Ordering::Relaxed) == FOREIGN;
        let mut page = lo.max(free.start);
        while page < hi {
            if !foreign(page) {
                page += PAGE_SIZE;
                continue;
            }
            let start = page;
            while page < hi && foreign(page) {
                page += PAGE_SIZE;
            }
            let pages = (page - start) / PAGE_SIZE;
            self.set_heads(start, pages, 0);
            let merged = self.put_free(&mut free, start, pages);
            each((start, page), merged);
        }
        true
    }

    /// Whether any page of `[lo, hi)` is withdrawn ([`Arena::withdraw`]).
    pub fn any_withdrawn(&self, lo: usize, hi: usize) -> bool {
        (lo..hi)
            .step_by(PAGE_SIZE)
            .any(|p| self.head_slot(p).load(Ordering::Relaxed) == FOREIGN)
    }

    /// The head map: `[base, first run)`, allocator metadata the program never touches.
    pub fn head_map(&self) -> (usize, usize) {
        let base = self.base.load(Ordering::Acquire);
        let pages = (self.end.load(Ordering::Relaxed) - base) / PAGE_SIZE;
        (base, base + (pages * 4).div_ceil(PAGE_SIZE) * PAGE_SIZE)
    }

    /// Marks never-used memory free `bytes` ahead of the bump (default 1 MiB): where
    /// marking costs no memory (shared shadow pages), far ahead, so that wild accesses
    /// past the last run are caught.
    pub fn set_fresh_ahead(&self, bytes: usize) {
        self.fresh_ahead
            .store(bytes.max(FRESH_AHEAD), Ordering::Relaxed);
    }

    /// The arena's memory, `[base, end)` (head map included), once it has some.
    pub fn range(&self) -> Option<(usize, usize)> {
        // Acquire: see `init`.
        let base = self.base.load(Ordering::Acquire);
        (base != 0).then(|| (base, self.end.load(Ordering::Relaxed)))
    }

    /// Whether the arena has been given memory.
    pub fn is_set(&self) -> bool {
        // Relaxed: a flag; `contains` does the Acquire before the fields are used.
        self.base.load(Ordering::Relaxed) != 0
    }

    /// Runs `f` holding the arena lock (tests of nested calls).
    #[cfg(test)]
    pub(crate) fn with_locked(&self, f: impl FnOnce()) {
        let _g = self.free.lock();
        f();
    }

    /// Zeroes `[addr, addr + len)` of a run the caller owns (for `__GFP_ZERO`/calloc).
    pub fn zero(&self, addr: usize, len: usize) {
        debug_assert!(self.contains(addr) && self.contains(addr + len - 1));
        // SAFETY: the range is inside the arena and belongs to an object the caller
        // has just allocated, so no one else writes it.
        unsafe { core::ptr::write_bytes(addr as *mut u8, 0, len) };
    }
}

/// The heap's arenas: one for everything but vmalloc, and the vmalloc space, whose
/// shadow may be populated on demand. Until the vmalloc space is set up, vmalloc
/// areas come from the main arena.
#[derive(Debug, Default)]
pub struct Arenas {
    /// Slab runs, large kmalloc, page-allocator blocks.
    pub main: Arena,
    /// vmalloc areas.
    pub vmap: Arena,
}

impl Arenas {
    /// Two arenas with no memory yet.
    pub const fn new() -> Arenas {
        Arenas {
            main: Arena::new(),
            vmap: Arena::new(),
        }
    }

    /// The arena `addr` lies in (the main one for addresses in neither).
    pub fn of(&self, addr: usize) -> &Arena {
        if self.vmap.contains(addr) {
            &self.vmap
        } else {
            &self.main
        }
    }

    /// The arena vmalloc areas come from.
    pub fn for_vmalloc(&self) -> &Arena {
        if self.vmap.is_set() {
            &self.vmap
        } else {
            &self.main
        }
    }

    /// The run holding `addr`, in either arena.
    pub fn run_of(&self, addr: usize) -> Option<Run> {
        self.of(addr).run_of(addr)
    }

    /// Whether `addr` lies in either arena.
    pub fn contains(&self, addr: usize) -> bool {
        self.main.contains(addr) || self.vmap.contains(addr)
    }

    /// Copies `len` bytes between two objects the caller owns (realloc), in either
    /// arena.
    pub fn copy(&self, dst: usize, src: usize, len: usize) {
        if len == 0 {
            return;
        }
        debug_assert!(self.contains(dst) && self.contains(src));
        // SAFETY: both ranges are inside the arenas, in two distinct live objects owned
        // by the caller, so they do not overlap.
        unsafe { core::ptr::copy_nonoverlapping(src as *const u8, dst as *mut u8, len) };
    }

    /// Pages handed out in runs, both arenas.
    pub fn used_pages(&self) -> usize {
        self.main.used_pages.load(Ordering::Relaxed) + self.vmap.used_pages.load(Ordering::Relaxed)
    }
}

/// Object addresses one [`Batch`] holds: a batch is one page.
pub const BATCH_OBJS: usize = PAGE_SIZE / 8 - 2;

/// Batches mapped at once when the pool is empty (64 KiB).
const BATCH_CHUNK: usize = 16;

/// A page of object addresses, linked into lists (the quarantine's queues: an
/// eviction reads the next object from an array, not from the cold metadata of the
/// last one, so the misses of consecutive objects overlap).
#[repr(C)]
pub struct Batch {
    next: core::sync::atomic::AtomicPtr<Batch>,
    /// Entries used.
    pub count: AtomicUsize,
    /// The entries, `count` of them used.
    pub objs: [AtomicUsize; BATCH_OBJS],
}

impl core::fmt::Debug for Batch {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Batch")
            .field("count", &self.count.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Batch {
    /// The batch after this one in its list.
    pub fn next(&self) -> Option<&'static Batch> {
        // Relaxed: a list is only walked by its owner (under its lock, or once taken
        // out of every list).
        let p = self.next.load(Ordering::Relaxed);
        // SAFETY: `next` is only written by `set_next` from a `&'static Batch` (or
        // null), and batches are never unmapped (`BatchPool`).
        unsafe { p.as_ref() }
    }

    /// Links `next` after this batch.
    pub fn set_next(&self, next: Option<&'static Batch>) {
        let p = next.map_or(core::ptr::null_mut(), |b| core::ptr::from_ref(b).cast_mut());
        // Relaxed: see `next`.
        self.next.store(p, Ordering::Relaxed);
    }
}

/// Batches: pages mapped from the host [`BATCH_CHUNK`] at a time, kept for the heap's
/// life (ASan's quarantine keeps its batches the same way), handed out one at a time
/// and taken back a whole chain at a time.
#[derive(Debug)]
pub struct BatchPool {
    /// The free batches, linked.
    free: SpinLock<Option<&'static Batch>>,
    /// Chains given back while this thread held `free` (a signal handler), pushed
    /// lock-free and taken whole by the next holder.
    returned: core::sync::atomic::AtomicPtr<Batch>,
}

impl Default for BatchPool {
    fn default() -> Self {
        Self::new()
    }
}

impl BatchPool {
    /// An empty pool.
    pub const fn new() -> BatchPool {
        BatchPool {
            free: SpinLock::new(None),
            returned: core::sync::atomic::AtomicPtr::new(core::ptr::null_mut()),
        }
    }

    /// An empty batch: from the pool, or from `map(bytes)` (zeroed, page-aligned memory
    /// kept for the heap's life) when the pool is empty. `None` when there is no
    /// memory, or this thread holds the pool's lock (a nested call).
    pub fn get(&self, map: impl FnOnce(usize) -> Option<usize>) -> Option<&'static Batch> {
        {
            let mut free = self.free.lock_unless_held()?;
            if free.is_none() {
                // Acquire pairs with the Release CAS in `put_chain`.
                let p = self.returned.swap(core::ptr::null_mut(), Ordering::Acquire);
                // SAFETY: chains pushed on `returned` are `&'static Batch`es.
                *free = unsafe { p.as_ref() };
            }
            if let Some(b) = *free {
                *free = b.next();
                b.set_next(None);
                b.count.store(0, Ordering::Relaxed);
                return Some(b);
            }
        }
        let base = map(BATCH_CHUNK * PAGE_SIZE)?;
        // SAFETY: `map` gave `BATCH_CHUNK` zeroed pages, page-aligned, kept for the
        // heap's life and ours alone; a page of zeroes is an empty `Batch` (atomics and
        // a null link), which is one page (`BATCH_OBJS`).
        let batch = |i: usize| unsafe { &*((base + i * PAGE_SIZE) as *const Batch) };
        for i in 1..BATCH_CHUNK - 1 {
            batch(i).set_next(Some(batch(i + 1)));
        }
        self.put_chain(batch(1), batch(BATCH_CHUNK - 1));
        Some(batch(0))
    }

    /// Takes back the chain of batches from `head` to `tail` (linked through
    /// `next`). Never waits on a lock this thread holds.
    pub fn put_chain(&self, head: &'static Batch, tail: &'static Batch) {
        if let Some(mut free) = self.free.lock_unless_held() {
            tail.set_next(*free);
            *free = Some(head);
            return;
        }
        // Relaxed: the CAS publishes.
        let mut old = self.returned.load(Ordering::Relaxed);
        loop {
            // SAFETY: `returned` only holds `&'static Batch`es (or null).
            tail.set_next(unsafe { old.as_ref() });
            // Release pairs with the Acquire swap in `get`.
            match self.returned.compare_exchange_weak(
                old,
                core::ptr::from_ref(head).cast_mut(),
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => return,
                Err(now) => old = now,
            }
        }
    }

    /// Takes the pool's lock and keeps it (before `fork`).
    pub fn lock_all(&self) {
        core::mem::forget(self.free.lock());
    }

    /// Releases the lock [`BatchPool::lock_all`] took.
    ///
    /// # Safety
    ///
    /// The caller must hold it through `lock_all`.
    pub unsafe fn unlock_all(&self) {
        // SAFETY: forwarded from the caller.
        unsafe { self.free.force_unlock() };
    }
}

const _: () = assert!(core::mem::size_of::<Batch>() == PAGE_SIZE);

impl Arenas {
    /// Starts loading what releasing the object at `addr` reads first: its page's
    /// head-map entry (the quarantine asks for objects a few ahead of the one it
    /// releases). Does nothing outside the arenas.
    pub fn prefetch(&self, addr: usize) {
        for arena in [&self.main, &self.vmap] {
            if arena.contains(addr) {
                prefetch(core::ptr::from_ref(arena.head_slot(addr)).cast());
            }
        }
    }

    /// Starts loading the header of the run holding `addr`, and the metadata line of
    /// the slot it would hold, when its head-map entry says it is in a run (the
    /// entry itself is loaded now: ask [`Arenas::prefetch`] some objects earlier).
    pub fn prefetch_run(&self, addr: usize) {
        for arena in [&self.main, &self.vmap] {
            if !arena.contains(addr) {
                continue;
            }
            // Relaxed: a hint; nothing is read through it but a prefetch.
            if let Some(start) = arena.run_start(arena.head_slot(addr).load(Ordering::Relaxed)) {
                prefetch(start as *const u8);
            }
        }
    }
}

/// A prefetch of the cache line at `p` (no access: `p` need not be valid).
#[inline(always)]
pub(crate) fn prefetch(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch reads nothing the program sees and never faults.
    unsafe {
        core::arch::x86_64::_mm_prefetch(p.cast(), core::arch::x86_64::_MM_HINT_T0);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
