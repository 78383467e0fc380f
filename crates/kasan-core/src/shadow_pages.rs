//! The shadow economy: which pages of shadow are real, and the policy that keeps
//! shadow real only where memory is really used (Linux's `CONFIG_KASAN_VMALLOC`
//! populate/release, and the per-page shadow idea of 2017 without its slower check).
//!
//! Every page of shadow is in one of three states:
//!
//! ```text
//!   unmapped      accesses fault (vmalloc space nobody uses: a missing populate crashes)
//!   shared(v)     reads v everywhere: one read-only page (0: the zero page; PAGE_FREE,
//!                 VMALLOC_INVALID: a page filled with the poison value)
//!   real          private and byte-granular
//! ```
//!
//! The checks never change: they load a shadow byte as they always have, and the MMU
//! answers from whichever page backs it. The core owns the policy and the
//! bookkeeping; the platform ([`ShadowPages`]) does the mapping, in whole pages.
//!
//! - **Sharing whole pages** ([`crate::shadow::Shadow::poison`]): a range set to one
//!   value whose shadow spans at least [`SHARE_MIN_PAGES`] whole pages (768 KiB of memory) gets those
//!   pages mapped to the shared page of that value; only its partial edges are
//!   written. A whole shadow page inside the range describes only memory of that
//!   range, so nobody else can be writing it: its owner may replace it. So the
//!   interior of a big live object is the zero page, of a big freed one the poisoned
//!   page, and the 1/8 of a block's size is never committed.
//! - **Releasing a page shared by neighbours** ([`release_free`]): a shadow page that
//!   straddles two blocks is real (both wrote their part). It goes back to the shared
//!   page only when all the memory it covers is free: the allocator asks after
//!   merging a freed run with its free neighbours, under the lock that owns free
//!   memory, so no allocation can be writing the page meanwhile (seed 002's rule).
//! - **vmalloc on demand** ([`VmallocShadow`]): the vmalloc space's shadow starts
//!   unmapped; `populate` maps the pages an area needs (counting the areas that use
//!   each page, as neighbouring areas share them), `release` unmaps the pages no area
//!   uses any more; the allocator calls it lazily, in batches, as Linux's vmap purge.
//!
//! A platform where a write to a shared page does not make a private copy by itself
//! (a kernel mapping one read-only page) answers `false` to
//! [`ShadowPages::copy_on_write`]; the core then calls [`ShadowPages::make_private`]
//! on every shadow page before it writes it, and the kernel's page tables do the rest.

#![allow(unsafe_code)]

use crate::sync::SpinLock;
use core::sync::atomic::{AtomicU16, AtomicU32, AtomicU8, AtomicUsize, Ordering};

/// The size of a page of shadow.
pub const SHADOW_PAGE: usize = 4096;

/// The fewest whole shadow pages a fill must span before they are shared instead of
/// written: 24 pages (768 KiB of memory at 1/8). Below that, writing the bytes costs
/// less than the remap and the copy-on-write faults of the next writer (measured in a
/// process, malloc/free pairs: the same at 512 KiB either way, 1.4x slower with
/// sharing at 640 KiB when it shared 20 pages, 1.4x faster at 1 MiB, 4x at 4 MiB).
pub const SHARE_MIN_PAGES: usize = 24;

/// The same for a poisoned fill (a freed block: its whole run, header and tail pages
/// included) and for giving back a freed block's edges: two pages more, so that a
/// block whose free shares pages is one whose allocation (the object alone, up to two
/// pages of shadow fewer) shared its interior too. Otherwise the next allocation there
/// would write every page the free shared, a copy-on-write fault each.
pub const SHARE_MIN_POISON_PAGES: usize = SHARE_MIN_PAGES + 2;

/// How the platform backs pages of shadow. Addresses and lengths are shadow
/// addresses in whole pages.
pub trait ShadowPages: Sync {
    /// Whether a shared page reading `value` exists (0 always may: the zero page).
    fn has_shared(&self, value: u8) -> bool;
    /// Backs `[addr, addr + len)` with the shared page of `value`, dropping any private
    /// copy. The caller owns all the memory those pages describe. False: nothing
    /// changed (no such page, no memory for the mapping); the caller writes instead.
    fn share(&self, addr: usize, len: usize, value: u8) -> bool;
    /// Maps unmapped pages `[addr, addr + len)` as real pages reading `fill`. False
    /// when there is no memory.
    fn populate(&self, addr: usize, len: usize, fill: u8) -> bool;
    /// Unmaps `[addr, addr + len)`: its memory is given back and accesses fault.
    fn unmap(&self, addr: usize, len: usize);
    /// Whether writing a shared page makes a private copy by itself (a process: a
    /// private mapping's copy-on-write). Default: yes.
    fn copy_on_write(&self) -> bool {
        true
    }
    /// Makes shared pages `[addr, addr + len)` private, keeping what they read (only
    /// called when [`ShadowPages::copy_on_write`] is false). False when there is no
    /// memory.
    fn make_private(&self, _addr: usize, _len: usize) -> bool {
        true
    }
    /// Whether shadow byte `addr` can be read without faulting (the report reads
    /// neighbours of a bad address; vmalloc space may be unmapped).
    fn readable(&self, _addr: usize) -> bool {
        true
    }
}

/// Rounds `x` down to a shadow page.
pub const fn page_down(x: usize) -> usize {
    x & !(SHADOW_PAGE - 1)
}

/// Rounds `x` up to a shadow page.
pub const fn page_up(x: usize) -> usize {
    (x + SHADOW_PAGE - 1) & !(SHADOW_PAGE - 1)
}

/// The whole shadow pages inside shadow range `[lo, hi)`, if at least `min` of them.
pub fn whole_pages(lo: usize, hi: usize, min: usize) -> Option<(usize, usize)> {
    let (a, b) = (page_up(lo), page_down(hi));
    (b > a && (b - a) / SHADOW_PAGE >= min).then_some((a, b))
}

/// Sets shadow bytes `[lo, hi)` to `value`: with a platform that shares pages, a
/// fill spanning at least `min` whole pages maps those to the shared page of `value`
/// and writes only its edges; otherwise (and on a platform whose shared pages need
/// [`ShadowPages::make_private`] first) every byte is written. Both shadows (the
/// generic one and the tag shadow) fill through here.
///
/// # Safety
///
/// `[lo, hi)` must be shadow bytes that are mapped and writable (a shared page of a
/// copy-on-write platform counts as writable), describing memory the caller owns.
#[inline]
pub unsafe fn fill_shadow(
    pages: Option<&dyn ShadowPages>,
    lo: usize,
    hi: usize,
    value: u8,
    min: usize,
) {
    // The common case, an object's few shadow bytes: too short to hold a whole page
    // (so nothing to share), on a platform whose shared pages take writes.
    if hi - lo < SHADOW_PAGE && pages.is_none_or(|p| p.copy_on_write()) {
        // SAFETY: the caller's promise.
        unsafe { crate::shadow::fill(lo, value, hi - lo) };
        return;
    }
    // SAFETY: forwarded from the caller.
    unsafe { fill_shadow_pages(pages, lo, hi, value, min) };
}

/// [`fill_shadow`] of a range that may span whole pages, or on a platform whose
/// shared pages must be made private before a write.
///
/// # Safety
///
/// As [`fill_shadow`].
#[inline(never)]
unsafe fn fill_shadow_pages(
    pages: Option<&dyn ShadowPages>,
    lo: usize,
    hi: usize,
    value: u8,
    min: usize,
) {
    if let Some(pages) = pages {
        if let Some((a, b)) = whole_pages(lo, hi, min) {
            if pages.has_shared(value) && pages.share(a, b - a, value) {
                for (x, y) in [(lo, a), (b, hi)] {
                    if y > x {
                        if !pages.copy_on_write() && !pages.make_private(page_down(x), SHADOW_PAGE)
                        {
                            continue;
                        }
                        // SAFETY: `[x, y)` is an edge of `[lo, hi)` (the caller's
                        // promise).
                        unsafe { crate::shadow::fill(x, value, y - x) };
                    }
                }
                return;
            }
        }
        if !pages.copy_on_write() && !pages.make_private(page_down(lo), page_up(hi) - page_down(lo))
        {
            return;
        }
    }
    // SAFETY: the caller's promise.
    unsafe { crate::shadow::fill(lo, value, hi - lo) };
}

/// After freed memory was merged into free memory `[free_lo, free_hi)` (shadow
/// addresses, the free range's exact shadow), maps back to the shared page of `value`
/// every shadow page that overlaps `[touched_lo, touched_hi)` (the freed block's
/// shadow, spanning at least `min_pages` whole pages: the mode's poisoned-fill
/// threshold, [`SHARE_MIN_POISON_PAGES`] for the generic shadow) and lies wholly
/// inside the free range. The caller holds the lock that owns free memory and has
/// poisoned it all with `value`. Returns the pages released.
pub fn release_free(
    pages: &dyn ShadowPages,
    (free_lo, free_hi): (usize, usize),
    (touched_lo, touched_hi): (usize, usize),
    value: u8,
    min_pages: usize,
) -> usize {
    // Only a block whose own fill shared its interior gives back its edges: for a
    // smaller one the remap (and the next allocation's copy-on-write faults on every
    // page of it) would cost more than its shadow is worth; it keeps its shadow
    // pages as the allocator keeps its memory.
    if whole_pages(touched_lo, touched_hi, min_pages).is_none() || !pages.has_shared(value) {
        return 0;
    }
    let lo = page_down(touched_lo).max(page_up(free_lo));
    let hi = page_up(touched_hi).min(page_down(free_hi));
    if hi <= lo {
        return 0;
    }
    if pages.share(lo, hi - lo, value) {
        (hi - lo) / SHADOW_PAGE
    } else {
        0
    }
}

/// [`release_free`] for a shadow covering memory `[start, end)` whose shadow byte of
/// `addr` is `shadow_addr(addr)`: the free range is clipped to the covered memory
/// and both ranges are turned into shadow addresses (each mode's
/// `Mode::release_free`).
pub fn release_free_covered(
    pages: &dyn ShadowPages,
    (start, end): (usize, usize),
    shadow_addr: impl Fn(usize) -> usize,
    (free_lo, free_hi): (usize, usize),
    (touched_lo, touched_hi): (usize, usize),
    value: u8,
    min_pages: usize,
) -> usize {
    let (lo, hi) = (free_lo.max(start), free_hi.min(end));
    if lo >= hi {
        return 0;
    }
    release_free(
        pages,
        (shadow_addr(lo), shadow_addr(hi)),
        (shadow_addr(touched_lo), shadow_addr(touched_hi)),
        value,
        min_pages,
    )
}

/// The shadow of the vmalloc space, populated on demand: a count per shadow page of
/// the areas (live, or freed and not yet purged) whose shadow lies on it. A page is
/// mapped while its count is above zero. A page whose last area was purged stays
/// mapped, marked cached: the next populate of it writes its edges instead of mapping
/// it again (the map, unmap and first-touch fault cost more than the page is worth
/// while the space is reused). The cache keeps the pages released last: a ring
/// records the order pages were cached in, and once the cache is at its limit the
/// page cached longest ago is unmapped to make room (a program whose areas have
/// moved elsewhere in the space stops paying for the pages of where they were).
/// [`VmallocShadow::drop_cache`] unmaps them all (`vm_unmap_aliases`).
pub struct VmallocShadow {
    /// First shadow page of the vmalloc space (0: not set up).
    base: AtomicUsize,
    /// Shadow pages covered.
    len: AtomicUsize,
    /// What the part of a page outside every area reads: the mode's invalid value
    /// (generic `VMALLOC_INVALID`, sw-tags the invalid tag).
    edge: AtomicU8,
    /// The counters, one per shadow page (`len` of them).
    counts: AtomicUsize,
    /// Serialises populate and release (Linux: `init_mm.page_table_lock`). Holds
    /// the mapped-page count.
    lock: SpinLock<usize>,
    /// Pages marked cached now (changed under `lock`).
    cached: AtomicUsize,
    /// The most pages kept cached (0: every released page is unmapped), at most
    /// [`CACHE_RING`] / 2.
    cache_max: AtomicUsize,
    /// The order pages were cached in: entry `seq % CACHE_RING` holds the page
    /// cached `seq`-th; an entry is stale once its page's count no longer says
    /// "cached at `seq`" (the page was taken again, or cached again later).
    ring: [AtomicU32; CACHE_RING],
    /// The sequence numbers of the oldest entry and of the next one (changed under
    /// `lock`).
    ring_tail: AtomicUsize,
    ring_head: AtomicUsize,
    /// The context ids (`sync::context_id`) of the populates mapping outside the
    /// lock now, 0 for a free slot (changed under `lock`).
    populators: [AtomicUsize; POPULATORS],
    /// The runs of pages each populator slot claimed [`PENDING`] (page indices,
    /// `[start, end)`; `end` 0 past the last), changed under `lock`: what a forked
    /// child gives back for the populates of threads it does not have
    /// ([`VmallocShadow::forget_populates`]).
    claims: [[[AtomicU32; 2]; MAX_RUNS]; POPULATORS],
}

/// The top bits of the count of a page no area uses that is kept mapped (see
/// [`VmallocShadow`]); the low 14 bits are the ring sequence number it was cached
/// at, modulo 2^14.
const CACHED: u16 = 0xc000;

/// The count of a page cached `seq`-th.
const fn cached_at(seq: usize) -> u16 {
    CACHED | (seq & 0x3fff) as u16
}

/// Whether count `c` is a cached page's.
const fn is_cached(c: u16) -> bool {
    c & CACHED == CACHED
}

/// The top bits of the count of a page a populate has claimed and is mapping
/// outside the lock (its one user is that populate's area).
pub const PENDING: u16 = 0x8000;

/// Whether count `c` is a page being mapped.
const fn is_pending(c: u16) -> bool {
    c & CACHED == PENDING
}

/// Entries of the ring of cached pages (32 KiB): twice the most pages the cache may
/// keep, so that stale entries leave room. A power of two below 2^14 (the
/// sequence bits a cached count keeps).
pub const CACHE_RING: usize = 8192;

/// Runs of unused pages one populate claims (an area's span has at most three).
const MAX_RUNS: usize = 4;

/// Populates that may map outside the lock at once.
const POPULATORS: usize = 8;

impl core::fmt::Debug for VmallocShadow {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("VmallocShadow")
            .field("base", &self.base.load(Ordering::Relaxed))
            .field("len", &self.len.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Default for VmallocShadow {
    fn default() -> Self {
        Self::new()
    }
}

/// Why a populate failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PopulateError {
    /// The platform had no memory for the shadow.
    NoMemory,
    /// A nested call (signal handler) found the lock held by its own thread.
    Busy,
}

impl VmallocShadow {
    /// Not set up: every call passes (shadow always mapped, the flat layout).
    pub const fn new() -> VmallocShadow {
        VmallocShadow {
            base: AtomicUsize::new(0),
            len: AtomicUsize::new(0),
            // Set by `init`, before any populate reads it; zero until then keeps the
            // whole value zero-initialised (a static of it lives in .bss, not in
            // every statically linked program's .data).
            edge: AtomicU8::new(0),
            counts: AtomicUsize::new(0),
            lock: SpinLock::new(0),
            cached: AtomicUsize::new(0),
            cache_max: AtomicUsize::new(0),
            ring: [const { AtomicU32::new(0) }; CACHE_RING],
            ring_tail: AtomicUsize::new(0),
            ring_head: AtomicUsize::new(0),
            populators: [const { AtomicUsize::new(0) }; POPULATORS],
            claims: [const { [const { [const { AtomicU32::new(0) }; 2] }; MAX_RUNS] }; POPULATORS],
        }
    }

    /// Keeps up to `pages` released shadow pages mapped for reuse (0: none; at most
    /// [`CACHE_RING`] / 2).
    pub fn set_cache_max(&self, pages: usize) {
        // Relaxed: read under the lock by `release_all`; any value is valid.
        self.cache_max
            .store(pages.min(CACHE_RING / 2), Ordering::Relaxed);
    }

    /// Pages kept mapped for reuse now.
    pub fn cached_pages(&self) -> usize {
        // Relaxed: a statistic.
        self.cached.load(Ordering::Relaxed)
    }

    /// Unmaps every page kept for reuse (Linux's `vm_unmap_aliases` purges all);
    /// returns how many. `Busy` for a nested call that found the lock held by its own
    /// thread.
    pub fn drop_cache(&self, pages: &dyn ShadowPages) -> Result<usize, PopulateError> {
        let base = self.base.load(Ordering::Acquire);
        let mut mapped = self.lock.lock_unless_held().ok_or(PopulateError::Busy)?;
        // Relaxed: changed only under the lock we hold.
        if base == 0 || self.cached.load(Ordering::Relaxed) == 0 {
            return Ok(0);
        }
        let mut dropped = 0;
        let mut run = None;
        while let Some(p) = self.pop_cached() {
            self.count(p).store(0, Ordering::Relaxed);
            run = self.unmap_batched(pages, base, run, p);
            dropped += 1;
        }
        if let Some(r) = run {
            pages.unmap(base + r.0 * SHADOW_PAGE, (r.1 - r.0) * SHADOW_PAGE);
        }
        *mapped -= dropped;
        self.cached.store(0, Ordering::Relaxed);
        Ok(dropped)
    }

    /// Under the lock: takes the oldest entry of the ring whose page is still cached
    /// (stale entries on the way are dropped), or `None` when no entry is left.
    fn pop_cached(&self) -> Option<usize> {
        // Relaxed: the ring changes only under the lock the caller holds.
        let head = self.ring_head.load(Ordering::Relaxed);
        let mut tail = self.ring_tail.load(Ordering::Relaxed);
        let mut found = None;
        while tail != head {
            let p = self.ring[tail % CACHE_RING].load(Ordering::Relaxed) as usize;
            let seq = tail;
            tail = tail.wrapping_add(1);
            if self.count(p).load(Ordering::Relaxed) == cached_at(seq) {
                found = Some(p);
                break;
            }
        }
        self.ring_tail.store(tail, Ordering::Relaxed);
        found
    }

    /// Adds page `p` to run `run` of pages to unmap when it extends it; otherwise
    /// unmaps the run and starts a new one at `p`. Returns the run.
    fn unmap_batched(
        &self,
        pages: &dyn ShadowPages,
        base: usize,
        run: Option<(usize, usize)>,
        p: usize,
    ) -> Option<(usize, usize)> {
        Some(match run {
            Some((s, e)) if e == p => (s, p + 1),
            Some((s, e)) if s == p + 1 => (p, e),
            Some((s, e)) => {
                pages.unmap(base + s * SHADOW_PAGE, (e - s) * SHADOW_PAGE);
                (p, p + 1)
            }
            None => (p, p + 1),
        })
    }

    /// Sets up on-demand shadow for shadow range `[shadow_lo, shadow_hi)` (whole
    /// pages), whose pages the platform has left unmapped; `counts` is zeroed memory
    /// for one `u16` per page of it, kept for the heap's life; `edge` is what shadow
    /// outside every area reads (generic `VMALLOC_INVALID`, sw-tags the invalid tag).
    ///
    /// # Safety
    ///
    /// `counts` must point to `(shadow_hi - shadow_lo) / SHADOW_PAGE` zeroed,
    /// writable `u16`s that nothing else uses and that stay mapped; no other thread
    /// may use this value yet.
    pub unsafe fn init(&self, shadow_lo: usize, shadow_hi: usize, counts: usize, edge: u8) {
        debug_assert!(shadow_lo.is_multiple_of(SHADOW_PAGE) && shadow_hi > shadow_lo);
        self.edge.store(edge, Ordering::Relaxed);
        self.len
            .store((shadow_hi - shadow_lo) / SHADOW_PAGE, Ordering::Relaxed);
        self.counts.store(counts, Ordering::Relaxed);
        // Release pairs with the Acquire in `span`: a thread that sees the base sees
        // the length and the counters.
        self.base.store(shadow_lo, Ordering::Release);
    }

    /// What shadow outside every area reads.
    fn edge(&self) -> u8 {
        // Relaxed: set in `init`, published by its Release store of `base`.
        self.edge.load(Ordering::Relaxed)
    }

    /// In a forked child (the only thread left, the locks released): the pages the
    /// populates of the parent's other threads had claimed and were mapping outside
    /// the lock stay [`PENDING`] for ever there, and a populate that needs one would
    /// wait for ever. They are unmapped and marked unused again; the areas those
    /// populates were for never reach the child's program (their threads are gone),
    /// and the pages they shared keep one user each, mapped. A populate of this
    /// thread's own (a `fork` from a signal handler that interrupted it) is left to
    /// finish. `Busy` if this thread holds the lock.
    pub fn forget_populates(&self, pages: &dyn ShadowPages) -> Result<usize, PopulateError> {
        let base = self.base.load(Ordering::Acquire);
        let me = crate::sync::context_id();
        let mut mapped = self.lock.lock_unless_held().ok_or(PopulateError::Busy)?;
        let mut forgotten = 0;
        for (slot, claims) in self.populators.iter().zip(self.claims.iter()) {
            // Relaxed: changed only under the lock we hold.
            let id = slot.load(Ordering::Relaxed);
            if id == 0 || (id == me && me != crate::sync::ANONYMOUS) {
                continue;
            }
            for c in claims {
                let (p, q) = (
                    c[0].load(Ordering::Relaxed) as usize,
                    c[1].load(Ordering::Relaxed) as usize,
                );
                if q <= p || q > self.len.load(Ordering::Relaxed) {
                    continue;
                }
                pages.unmap(base + p * SHADOW_PAGE, (q - p) * SHADOW_PAGE);
                for r in p..q {
                    self.count(r).store(0, Ordering::Relaxed);
                }
                *mapped -= q - p;
                forgotten += q - p;
            }
            slot.store(0, Ordering::Relaxed);
        }
        Ok(forgotten)
    }

    /// Whether on-demand shadow is set up.
    pub fn enabled(&self) -> bool {
        // Relaxed: a flag; `span` does the Acquire before anything is used.
        self.base.load(Ordering::Relaxed) != 0
    }

    /// The page indices of shadow range `[lo, hi)`, clipped to the space.
    fn span(&self, lo: usize, hi: usize) -> Option<(usize, usize)> {
        // Acquire: see `init`.
        let base = self.base.load(Ordering::Acquire);
        let len = self.len.load(Ordering::Relaxed);
        if base == 0 || hi <= lo || hi <= base || lo >= base + len * SHADOW_PAGE {
            return None;
        }
        let first = (lo.max(base) - base) / SHADOW_PAGE;
        let last = (page_up(hi).min(base + len * SHADOW_PAGE) - base) / SHADOW_PAGE;
        Some((first, last))
    }

    fn count(&self, page: usize) -> &AtomicU16 {
        let counts = self.counts.load(Ordering::Relaxed) as *const AtomicU16;
        // SAFETY: `page` is below `len` (from `span`), and `init` was promised `len`
        // counters at `counts` for the heap's life.
        unsafe { &*counts.add(page) }
    }

    /// Whether shadow byte `addr` is mapped (not in the space, or a page in use).
    /// Racy by nature: the report asks it for neighbours of a bad address.
    pub fn readable(&self, addr: usize) -> bool {
        match self.span(addr, addr + 1) {
            // Relaxed: a hint for the report; a page is unmapped only under the lock
            // after its count reached zero.
            Some((p, _)) => {
                let c = self.count(p).load(Ordering::Relaxed);
                c > 0 && !is_pending(c)
            }
            None => true,
        }
    }

    /// Whether shadow address `addr` lies in the on-demand space.
    pub fn covers(&self, addr: usize) -> bool {
        self.span(addr, addr + 1).is_some()
    }

    /// Takes the lock and keeps it (before `fork`).
    pub fn lock_all(&self) {
        core::mem::forget(self.lock.lock());
    }

    /// Releases the lock [`VmallocShadow::lock_all`] took.
    ///
    /// # Safety
    ///
    /// The caller must hold it through `lock_all`.
    pub unsafe fn unlock_all(&self) {
        // SAFETY: forwarded from the caller.
        unsafe { self.lock.force_unlock() };
    }

    /// Pages mapped now.
    pub fn mapped_pages(&self) -> usize {
        *self.lock.lock()
    }

    /// `kasan_populate_vmalloc`: an area whose shadow is `[lo, hi)` is about to be
    /// used. Pages no area uses yet are mapped: those wholly inside the range read
    /// zero (the area's own poison and unpoison set every byte of them), the edges
    /// read the space's invalid value (`VMALLOC_INVALID`, or the invalid tag) so the
    /// part of them outside the area stays invalid. Pages a neighbour populated are
    /// shared (one more user). On failure nothing changed.
    ///
    /// The mapping itself (a system call in a process) runs outside the lock: the
    /// pages are claimed under it, marked [`PENDING`], mapped, and published under it
    /// again, so threads populating other areas do not wait for each other's calls.
    /// A populate that needs a page another one has pending waits (outside the lock)
    /// until it is published, then starts over; one whose own thread has pages
    /// pending (a signal handler that interrupted a populate) answers `Busy`.
    pub fn populate(
        &self,
        pages: &dyn ShadowPages,
        lo: usize,
        hi: usize,
    ) -> Result<(), PopulateError> {
        let Some((first, last)) = self.span(lo, hi) else {
            return Ok(());
        };
        let me = crate::sync::context_id();
        loop {
            let mut mapped = self.lock.lock_unless_held().ok_or(PopulateError::Busy)?;
            // Relaxed: counts change only under the lock we hold.
            if (first..last).any(|p| is_pending(self.count(p).load(Ordering::Relaxed))) {
                if me != crate::sync::ANONYMOUS
                    && self
                        .populators
                        .iter()
                        .any(|s| s.load(Ordering::Relaxed) == me)
                {
                    // Our own thread, interrupted mid-populate, holds them.
                    return Err(PopulateError::Busy);
                }
                drop(mapped);
                // Relaxed: a hint; the decision is taken again under the lock.
                while (first..last).any(|p| is_pending(self.count(p).load(Ordering::Relaxed))) {
                    core::hint::spin_loop();
                }
                continue;
            }
            let slot = self.populators.iter().position(|s| {
                // Relaxed: slots change only under the lock we hold.
                s.load(Ordering::Relaxed) == 0
            });
            // Relaxed: as above.
            let runs_needed = (first..last)
                .filter(|&p| {
                    self.count(p).load(Ordering::Relaxed) == 0
                        && (p == first || self.count(p - 1).load(Ordering::Relaxed) != 0)
                })
                .count();
            let Some(slot) = slot.filter(|_| runs_needed <= MAX_RUNS) else {
                // Every slot busy (or a span of many runs, which one area's is not):
                // map under the lock, one populate at a time.
                return self.populate_locked(pages, &mut mapped, first, last, lo, hi);
            };
            self.populators[slot].store(me, Ordering::Relaxed);
            let mut runs = [(0usize, 0usize); MAX_RUNS];
            let claimed = self.claim(&mut mapped, first, last, lo, hi, &mut runs);
            for (c, r) in self.claims[slot].iter().zip(runs.iter()) {
                // Relaxed: changed and read under the lock we hold (see `claims`).
                c[0].store(r.0 as u32, Ordering::Relaxed);
                c[1].store(r.1 as u32, Ordering::Relaxed);
            }
            drop(mapped);
            let base = self.base.load(Ordering::Relaxed);
            let mut ok = true;
            for &(p, q) in &runs[..claimed] {
                ok = ok && self.map_run(pages, base, p, q, lo, hi);
            }
            let mut mapped = self.lock.lock();
            self.populators[slot].store(0, Ordering::Relaxed);
            if ok {
                for &(p, q) in &runs[..claimed] {
                    for r in p..q {
                        self.count(r).store(1, Ordering::Relaxed);
                    }
                }
                return Ok(());
            }
            // Give back what the claim took: the runs (unmapped again, whatever part
            // of them was mapped), and one user of every other page.
            let mut p = first;
            while p < last {
                if let Some(&(_, q)) = runs[..claimed].iter().find(|r| r.0 == p) {
                    pages.unmap(base + p * SHADOW_PAGE, (q - p) * SHADOW_PAGE);
                    for r in p..q {
                        self.count(r).store(0, Ordering::Relaxed);
                    }
                    *mapped -= q - p;
                    p = q;
                    continue;
                }
                if self.count(p).fetch_sub(1, Ordering::Relaxed) == 1 {
                    pages.unmap(base + p * SHADOW_PAGE, SHADOW_PAGE);
                    *mapped -= 1;
                }
                p += 1;
            }
            return Err(PopulateError::NoMemory);
        }
    }

    /// Under the lock: one more user for every page of `[first, last)` (a cached
    /// page gets its edges rewritten), and the runs of pages no area uses (at most
    /// [`MAX_RUNS`], which the caller counted) claimed [`PENDING`] into `runs` for the
    /// caller to map outside the lock. Returns the runs claimed.
    fn claim(
        &self,
        mapped: &mut usize,
        first: usize,
        last: usize,
        lo: usize,
        hi: usize,
        runs: &mut [(usize, usize); MAX_RUNS],
    ) -> usize {
        let mut claimed = 0;
        let mut p = first;
        while p < last {
            // Relaxed: counts change only under the lock we hold.
            let c = self.count(p).load(Ordering::Relaxed);
            if c != 0 {
                self.take_mapped(p, c, lo, hi);
                p += 1;
                continue;
            }
            let mut q = p + 1;
            while q < last && self.count(q).load(Ordering::Relaxed) == 0 {
                q += 1;
            }
            for r in p..q {
                self.count(r).store(PENDING | 1, Ordering::Relaxed);
            }
            *mapped += q - p;
            runs[claimed] = (p, q);
            claimed += 1;
            p = q;
        }
        claimed
    }

    /// One more user of mapped page `p` (count `c`, not 0, not pending): a cached
    /// page gets its part outside `[lo, hi)` rewritten invalid.
    fn take_mapped(&self, p: usize, c: u16, lo: usize, hi: usize) {
        if is_cached(c) {
            // Mapped, no area on it, stale poison: its part outside this area must
            // read invalid, its part inside is set by the area's poison and
            // unpoison; an interior page needs nothing.
            let a = self.base.load(Ordering::Relaxed) + p * SHADOW_PAGE;
            if !(a >= lo && a + SHADOW_PAGE <= hi) {
                // SAFETY: a mapped page of the space, writable (a shared page is a
                // private file mapping: the write copies it).
                unsafe { crate::shadow::fill(a, self.edge(), SHADOW_PAGE) };
            }
            self.count(p).store(1, Ordering::Relaxed);
            self.cached.fetch_sub(1, Ordering::Relaxed);
        } else {
            self.count(p).fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Maps run `[p, q)` of the space (page indices; `base` its first shadow page):
    /// one mapping, then the edge pages (partly outside shadow `[lo, hi)`) made to
    /// read invalid; the pages wholly inside stay zero.
    fn map_run(
        &self,
        pages: &dyn ShadowPages,
        base: usize,
        p: usize,
        q: usize,
        lo: usize,
        hi: usize,
    ) -> bool {
        let (a, b) = (base + p * SHADOW_PAGE, base + q * SHADOW_PAGE);
        if !pages.populate(a, b - a, 0) {
            return false;
        }
        for edge in [page_down(lo), page_down(hi - 1)] {
            if (a..b).contains(&edge) && !(edge >= lo && edge + SHADOW_PAGE <= hi) {
                // SAFETY: `edge` is a page just populated (real, writable), claimed
                // by this populate: nobody else writes it until it is published.
                unsafe { crate::shadow::fill(edge, self.edge(), SHADOW_PAGE) };
            }
        }
        true
    }

    /// [`VmallocShadow::populate`] with every mapping made under the lock (when all
    /// populator slots are taken).
    fn populate_locked(
        &self,
        pages: &dyn ShadowPages,
        mapped: &mut usize,
        first: usize,
        last: usize,
        lo: usize,
        hi: usize,
    ) -> Result<(), PopulateError> {
        let base = self.base.load(Ordering::Relaxed);
        let mut p = first;
        while p < last {
            // Relaxed: counts change only under the lock we hold.
            let c = self.count(p).load(Ordering::Relaxed);
            if c != 0 {
                self.take_mapped(p, c, lo, hi);
                p += 1;
                continue;
            }
            // A run [p, q) of pages no area uses: unmapped.
            let mut q = p + 1;
            while q < last && self.count(q).load(Ordering::Relaxed) == 0 {
                q += 1;
            }
            if !self.map_run(pages, base, p, q, lo, hi) {
                pages.unmap(base + p * SHADOW_PAGE, (q - p) * SHADOW_PAGE);
                // Undo [first, p): each got one more user or was mapped (or taken
                // from the cache) at 1.
                for r in first..p {
                    if self.count(r).fetch_sub(1, Ordering::Relaxed) == 1 {
                        pages.unmap(base + r * SHADOW_PAGE, SHADOW_PAGE);
                        *mapped -= 1;
                    }
                }
                return Err(PopulateError::NoMemory);
            }
            for r in p..q {
                self.count(r).store(1, Ordering::Relaxed);
            }
            *mapped += q - p;
            p = q;
        }
        Ok(())
    }

    /// `kasan_release_vmalloc`, for an area whose shadow is `[lo, hi)`, freed and
    /// purged (its memory goes back to the vmalloc space right after): one user less
    /// for each of its pages, and those no area uses any more are unmapped. Returns
    /// the pages unmapped, or `Busy` for a nested call that found the lock held by its
    /// own thread (nothing changed; the caller keeps the area queued).
    pub fn release(
        &self,
        pages: &dyn ShadowPages,
        lo: usize,
        hi: usize,
    ) -> Result<usize, PopulateError> {
        self.release_all(pages, [(lo, hi)])
    }

    /// [`VmallocShadow::release`] for a batch of areas (the lazy purge) under one
    /// lock: pages freed by neighbouring areas are unmapped together, in one call per
    /// run of pages.
    pub fn release_all(
        &self,
        pages: &dyn ShadowPages,
        areas: impl IntoIterator<Item = (usize, usize)>,
    ) -> Result<usize, PopulateError> {
        let base = self.base.load(Ordering::Acquire);
        let mut mapped = self.lock.lock_unless_held().ok_or(PopulateError::Busy)?;
        let mut released = 0;
        // The runs of pages to unmap, [start, end) in page indices: pages released
        // now, and cached pages evicted to make room.
        let mut run: Option<(usize, usize)> = None;
        let mut evicted: Option<(usize, usize)> = None;
        // Relaxed: the limit is a setting; any value is valid.
        let cache_max = self.cache_max.load(Ordering::Relaxed);
        for (lo, hi) in areas {
            let Some((first, last)) = self.span(lo, hi) else {
                continue;
            };
            for p in first..last {
                // Relaxed: counts change only under the lock we hold.
                let c = self.count(p);
                debug_assert!(
                    c.load(Ordering::Relaxed) > 0,
                    "release of an unpopulated page"
                );
                let now = c.load(Ordering::Relaxed);
                if now == 0 || is_cached(now) || c.fetch_sub(1, Ordering::Relaxed) != 1 {
                    continue;
                }
                if cache_max == 0 {
                    released += 1;
                    run = self.unmap_batched(pages, base, run, p);
                    continue;
                }
                // Relaxed: the cache and the ring change only under the lock we hold.
                let head = self.ring_head.load(Ordering::Relaxed);
                let full = head.wrapping_sub(self.ring_tail.load(Ordering::Relaxed)) == CACHE_RING;
                if full || self.cached.load(Ordering::Relaxed) >= cache_max {
                    // Room for it: the page cached longest ago goes.
                    if let Some(old) = self.pop_cached() {
                        self.count(old).store(0, Ordering::Relaxed);
                        self.cached.fetch_sub(1, Ordering::Relaxed);
                        released += 1;
                        evicted = self.unmap_batched(pages, base, evicted, old);
                    }
                }
                self.ring[head % CACHE_RING].store(p as u32, Ordering::Relaxed);
                self.ring_head
                    .store(head.wrapping_add(1), Ordering::Relaxed);
                c.store(cached_at(head), Ordering::Relaxed);
                self.cached.fetch_add(1, Ordering::Relaxed);
            }
        }
        for r in [run, evicted].into_iter().flatten() {
            pages.unmap(base + r.0 * SHADOW_PAGE, (r.1 - r.0) * SHADOW_PAGE);
        }
        *mapped -= released;
        Ok(released)
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::shadow::encoding::{PAGE_FREE, VMALLOC_INVALID};
    use crate::shadow::Shadow;
    use std::boxed::Box;
    use std::collections::BTreeMap;
    use std::sync::Mutex;
    use std::vec;
    use std::vec::Vec;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum State {
        Shared(u8),
        Real,
        Unmapped,
    }

    /// A fake platform: shadow pages are bytes of a Vec; their state is recorded, a
    /// share fills the page (as the shared page reads), an unmap scribbles it.
    #[derive(Default)]
    struct FakePages {
        states: Mutex<BTreeMap<usize, State>>,
        shared: Vec<u8>,
        fail_populate: core::sync::atomic::AtomicBool,
        slow_populate: core::sync::atomic::AtomicBool,
        calls: AtomicUsize,
    }

    impl FakePages {
        fn leak(shared: &[u8]) -> &'static FakePages {
            Box::leak(Box::new(FakePages {
                shared: shared.to_vec(),
                ..Default::default()
            }))
        }
        fn state(&self, page: usize) -> Option<State> {
            self.states.lock().unwrap().get(&page).copied()
        }
        /// Pages written since they were shared are real (copy-on-write).
        fn settle(&self) {
            let mut states = self.states.lock().unwrap();
            for (&page, state) in states.iter_mut() {
                if let State::Shared(v) = *state {
                    // SAFETY: shared pages were filled by `share` inside test memory.
                    let bytes =
                        unsafe { core::slice::from_raw_parts(page as *const u8, SHADOW_PAGE) };
                    if bytes.iter().any(|&b| b != v) {
                        *state = State::Real;
                    }
                }
            }
        }
    }

    fn set(addr: usize, len: usize, v: u8) {
        // SAFETY: tests pass pages inside their own Vec.
        unsafe { crate::shadow::fill(addr, v, len) };
    }

    impl ShadowPages for FakePages {
        fn has_shared(&self, value: u8) -> bool {
            value == 0 || self.shared.contains(&value)
        }
        fn share(&self, addr: usize, len: usize, value: u8) -> bool {
            assert!(addr.is_multiple_of(SHADOW_PAGE) && len.is_multiple_of(SHADOW_PAGE));
            self.calls.fetch_add(1, Ordering::Relaxed);
            set(addr, len, value);
            let mut states = self.states.lock().unwrap();
            for p in (addr..addr + len).step_by(SHADOW_PAGE) {
                states.insert(p, State::Shared(value));
            }
            true
        }
        fn populate(&self, addr: usize, len: usize, fill: u8) -> bool {
            if self.fail_populate.load(Ordering::Relaxed) {
                return false;
            }
            if self.slow_populate.load(Ordering::Relaxed) {
                // A system call's worth of time, for other threads to meet the
                // pages pending.
                std::thread::sleep(std::time::Duration::from_micros(50));
            }
            let mut states = self.states.lock().unwrap();
            for p in (addr..addr + len).step_by(SHADOW_PAGE) {
                let old = states.insert(p, State::Real);
                assert!(
                    matches!(old, None | Some(State::Unmapped)),
                    "populate of a mapped page"
                );
            }
            set(addr, len, fill);
            true
        }
        fn unmap(&self, addr: usize, len: usize) {
            let mut states = self.states.lock().unwrap();
            for p in (addr..addr + len).step_by(SHADOW_PAGE) {
                states.insert(p, State::Unmapped);
            }
            set(addr, len, 0xAA);
        }
        fn readable(&self, addr: usize) -> bool {
            self.state(page_down(addr)) != Some(State::Unmapped)
        }
    }

    /// Page-aligned test shadow of `pages` pages, and a Shadow over the memory it
    /// describes (the memory itself is never touched).
    fn shadow_of(pages: usize, backing: &'static FakePages) -> (Vec<u8>, usize, Shadow) {
        let buf = vec![0u8; (pages + 1) * SHADOW_PAGE];
        let lo = (buf.as_ptr() as usize).next_multiple_of(SHADOW_PAGE);
        // The described memory: 8 bytes per shadow byte, starting at address 1 << 40.
        let mem = 1usize << 40;
        let offset = lo.wrapping_sub(mem >> 3);
        // SAFETY: the shadow of [mem, mem + pages * 32 KiB) is inside `buf`, which the
        // test keeps alive while it uses the Shadow.
        let shadow =
            unsafe { Shadow::new(offset, mem, mem + pages * SHADOW_PAGE * 8) }.with_pages(backing);
        (buf, mem, shadow)
    }

    const MEM_PER_PAGE: usize = SHADOW_PAGE * 8;

    #[test]
    fn big_fill_shares_whole_pages_and_writes_edges() {
        let backing = FakePages::leak(&[PAGE_FREE]);
        let (_buf, mem, shadow) = shadow_of(64, backing);
        // 100 bytes into page 0 up to 40 bytes into page 30: pages 1..30 are whole.
        let (a, b) = (mem + 800, mem + 30 * MEM_PER_PAGE + 320);
        shadow.poison(a, b - a, PAGE_FREE);
        backing.settle();
        for p in 1..30 {
            assert_eq!(
                backing.state(shadow.shadow_addr(mem + p * MEM_PER_PAGE)),
                Some(State::Shared(PAGE_FREE)),
                "page {p}"
            );
        }
        assert_eq!(
            backing.state(shadow.shadow_addr(mem)),
            None,
            "edge pages are written, not mapped"
        );
        assert_eq!(
            backing.state(shadow.shadow_addr(mem + 30 * MEM_PER_PAGE)),
            None
        );
        // Every byte reads as written, edges included; the neighbours are untouched.
        assert_eq!(shadow.byte(a - 8), Some(0));
        assert_eq!(shadow.byte(a), Some(PAGE_FREE));
        assert_eq!(shadow.byte(b - 8), Some(PAGE_FREE));
        assert_eq!(shadow.byte(b), Some(0));
        // A value without a shared page is written in full; so is a small fill.
        let calls = backing.calls.load(Ordering::Relaxed);
        shadow.poison(mem, 40 * MEM_PER_PAGE, VMALLOC_INVALID);
        shadow.poison(mem + 50 * MEM_PER_PAGE, 7 * MEM_PER_PAGE, PAGE_FREE);
        assert_eq!(backing.calls.load(Ordering::Relaxed), calls);
        assert_eq!(shadow.byte(mem + 39 * MEM_PER_PAGE), Some(VMALLOC_INVALID));
        assert_eq!(shadow.byte(mem + 56 * MEM_PER_PAGE), Some(PAGE_FREE));
        // Unpoisoning a live big object: its interior is the zero page.
        shadow.unpoison(mem, 30 * MEM_PER_PAGE + 5);
        backing.settle();
        assert_eq!(
            backing.state(shadow.shadow_addr(mem + 10 * MEM_PER_PAGE)),
            Some(State::Shared(0))
        );
        assert_eq!(shadow.byte(mem + 30 * MEM_PER_PAGE), Some(5));
        assert!(shadow.check(mem, 30 * MEM_PER_PAGE + 5));
        assert!(!shadow.check(mem, 30 * MEM_PER_PAGE + 6));
    }

    #[test]
    fn release_free_takes_only_pages_wholly_free() {
        let backing = FakePages::leak(&[PAGE_FREE]);
        let (_buf, mem, shadow) = shadow_of(64, backing);
        let sa = |x: usize| shadow.shadow_addr(x);
        // Free memory [1.5 pages, 40 pages); the freed block was [2.5, 32.25) pages.
        let page = MEM_PER_PAGE;
        let (free_lo, free_hi) = (mem + page + page / 2, mem + 40 * page);
        let (t0, t1) = (mem + 2 * page + page / 2, mem + 32 * page + page / 4);
        // Written, not shared, so that only `release_free` maps pages.
        set(sa(free_lo), sa(free_hi) - sa(free_lo), PAGE_FREE);
        let n = release_free(
            backing,
            (sa(free_lo), sa(free_hi)),
            (sa(t0), sa(t1)),
            PAGE_FREE,
            SHARE_MIN_POISON_PAGES,
        );
        // Pages 2 to 32 overlap the block and lie inside the free range; page 1 does
        // not lie inside it, page 33 does but the block never touched it.
        assert_eq!(n, 31);
        for p in 2..33 {
            assert_eq!(
                backing.state(sa(mem + p * page)),
                Some(State::Shared(PAGE_FREE))
            );
        }
        assert_eq!(backing.state(sa(mem + page)), None);
        assert_eq!(backing.state(sa(mem + 33 * page)), None);
        // Nothing for a value without a shared page, nor for a block too small to
        // have had its interior shared (it keeps its shadow pages).
        assert_eq!(
            release_free(
                backing,
                (sa(free_lo), sa(free_hi)),
                (sa(t0), sa(t1)),
                VMALLOC_INVALID,
                SHARE_MIN_POISON_PAGES
            ),
            0
        );
        let calls = backing.calls.load(Ordering::Relaxed);
        assert_eq!(
            release_free(
                backing,
                (sa(free_lo), sa(free_hi)),
                (sa(mem + 22 * page + 8), sa(mem + 30 * page)),
                PAGE_FREE,
                SHARE_MIN_POISON_PAGES
            ),
            0
        );
        assert_eq!(backing.calls.load(Ordering::Relaxed), calls);
    }

    /// A vmalloc space of `pages` shadow pages over fake shadow, all unmapped.
    fn vspace(
        pages: usize,
    ) -> (
        Vec<u8>,
        Vec<u16>,
        &'static FakePages,
        &'static VmallocShadow,
        usize,
    ) {
        vspace_with(pages, VMALLOC_INVALID)
    }

    /// [`vspace`] whose shadow outside every area reads `edge`.
    fn vspace_with(
        pages: usize,
        edge: u8,
    ) -> (
        Vec<u8>,
        Vec<u16>,
        &'static FakePages,
        &'static VmallocShadow,
        usize,
    ) {
        let backing = FakePages::leak(&[]);
        let buf = vec![0u8; (pages + 1) * SHADOW_PAGE];
        let lo = (buf.as_ptr() as usize).next_multiple_of(SHADOW_PAGE);
        backing.unmap(lo, pages * SHADOW_PAGE);
        let counts = vec![0u16; pages];
        let v: &'static VmallocShadow = Box::leak(Box::new(VmallocShadow::new()));
        // SAFETY: `counts` has a u16 per page and outlives the test's use of `v`.
        unsafe { v.init(lo, lo + pages * SHADOW_PAGE, counts.as_ptr() as usize, edge) };
        (buf, counts, backing, v, lo)
    }

    #[test]
    fn a_forked_child_gives_back_the_pages_other_threads_were_mapping() {
        let (_buf, _counts, backing, v, lo) = vspace(8);
        let p = SHADOW_PAGE;
        // A neighbour's page, mapped: the half-done populate shares it.
        v.populate(backing, lo, lo + p + p / 2).unwrap();
        // Another thread's populate of [1.5, 4) pages, stopped between its claim and
        // its publish, as a fork copies it: pages 2 and 3 pending, its slot taken.
        {
            let mut mapped = v.lock.lock();
            let mut runs = [(0, 0); MAX_RUNS];
            let n = v.claim(&mut mapped, 1, 4, lo + p + p / 2, lo + 4 * p, &mut runs);
            assert_eq!(&runs[..n], &[(2, 4)]);
            v.populators[3].store(0xdead_0000, Ordering::Relaxed);
            for (c, r) in v.claims[3].iter().zip(runs.iter()) {
                c[0].store(r.0 as u32, Ordering::Relaxed);
                c[1].store(r.1 as u32, Ordering::Relaxed);
            }
        }
        backing.populate(lo + 2 * p, p, 0);
        assert!(is_pending(v.count(2).load(Ordering::Relaxed)));
        // In the child: the pending pages are unmapped and unused again, the slot
        // free; the shared page keeps the lost area's user.
        assert_eq!(v.forget_populates(backing), Ok(2));
        assert_eq!(v.count(2).load(Ordering::Relaxed), 0);
        assert_eq!(v.count(3).load(Ordering::Relaxed), 0);
        assert_eq!(v.count(1).load(Ordering::Relaxed), 2);
        assert_eq!(backing.state(lo + 2 * p), Some(State::Unmapped));
        assert_eq!(v.populators[3].load(Ordering::Relaxed), 0);
        assert_eq!(v.mapped_pages(), 2);
        // A populate of those pages no longer waits for ever: it maps them.
        v.populate(backing, lo + 2 * p, lo + 4 * p).unwrap();
        assert_eq!(backing.state(lo + 3 * p), Some(State::Real));
        assert_eq!(v.mapped_pages(), 4);
        // Nothing else to forget.
        assert_eq!(v.forget_populates(backing), Ok(0));
    }

    #[test]
    fn vmalloc_edges_read_the_spaces_own_invalid_value() {
        // The tag shadow's space: outside every area, the invalid tag (0xE).
        let (_buf, _counts, backing, v, lo) = vspace_with(4, 0x0E);
        v.set_cache_max(4);
        let p = SHADOW_PAGE;
        let a = (lo + p / 4, lo + 2 * p + p / 2);
        v.populate(backing, a.0, a.1).unwrap();
        // SAFETY: populated test pages.
        let byte = |x: usize| unsafe { *(x as *const u8) };
        assert_eq!(byte(lo + 8), 0x0E);
        assert_eq!(
            byte(a.0),
            0x0E,
            "the populate leaves the area's own part to its poison"
        );
        assert_eq!(byte(lo + p + 8), 0, "an interior page reads zero");
        assert_eq!(byte(lo + 2 * p + p / 2 + 8), 0x0E);
        // Released into the cache with stale bytes, then taken by an area that covers
        // only part of it: its edges are written invalid again.
        set(lo, 3 * p, 0x05);
        assert_eq!(v.release(backing, a.0, a.1), Ok(0));
        assert_eq!(v.cached_pages(), 3);
        let b = (lo + p / 2, lo + p);
        v.populate(backing, b.0, b.1).unwrap();
        assert_eq!(byte(lo + 8), 0x0E);
        assert_eq!(
            byte(lo + p / 2),
            0x0E,
            "the whole edge page is rewritten; the area's poison sets its own part"
        );
        assert_eq!(
            byte(lo + p + 8),
            0x05,
            "a page no area took is left as it was"
        );
        assert_eq!(v.cached_pages(), 2);
    }

    /// A tag shadow over fake pages: `pages` shadow pages describing memory from
    /// 1 << 40 (16 bytes per shadow byte, never touched).
    fn tag_shadow_of(
        pages: usize,
        backing: &'static FakePages,
    ) -> (
        Vec<u8>,
        usize,
        crate::sw_tags::TagShadow<crate::sw_tags::TopBitsCarrier>,
    ) {
        let buf = vec![0u8; (pages + 1) * SHADOW_PAGE];
        let lo = (buf.as_ptr() as usize).next_multiple_of(SHADOW_PAGE);
        let mem = 1usize << 40;
        let carrier = crate::sw_tags::TopBitsCarrier {
            shift: 56,
            width: 4,
            native: 0,
        };
        // SAFETY: the tag shadow of [mem, mem + pages * 64 KiB) is inside `buf`, which
        // the test keeps alive while it uses the shadow.
        let shadow = unsafe {
            crate::sw_tags::TagShadow::new_paged(
                lo.wrapping_sub(mem >> 4),
                mem,
                mem + pages * SHADOW_PAGE * 16,
                carrier,
                crate::sw_tags::X86_64,
                backing,
            )
        };
        (buf, mem, shadow)
    }

    #[test]
    fn tag_shadow_shares_and_gives_back_the_blocks_the_generic_shadow_does() {
        use crate::sw_tags::{TAG_SHARE_MIN_POISON_PAGES, X86_64};
        let backing = FakePages::leak(&[3, X86_64.invalid]);
        let (_buf, mem, shadow) = tag_shadow_of(64, backing);
        let sa = |x: usize| shadow.shadow_addr(x);
        let page = SHADOW_PAGE * 16;
        // A 1 MiB block 16 KiB into memory page 4: 16 shadow pages, whole ones 5..=19.
        let a = mem + 4 * page + (16 << 10);
        let len = 1 << 20;
        shadow.poison(a, len, 3);
        backing.settle();
        assert_eq!(backing.state(sa(mem + 5 * page)), Some(State::Shared(3)));
        assert_eq!(backing.state(sa(mem + 19 * page)), Some(State::Shared(3)));
        assert_eq!(shadow.tag_at(a), Some(3));
        assert_eq!(shadow.tag_at(a + len - 1), Some(3));
        // Freed: the interior is the invalid tag's shared page, the edges are written.
        shadow.poison(a, len, X86_64.invalid);
        backing.settle();
        assert_eq!(
            backing.state(sa(mem + 12 * page)),
            Some(State::Shared(X86_64.invalid))
        );
        assert!(!matches!(backing.state(sa(a)), Some(State::Shared(_))));
        assert_eq!(shadow.tag_at(a + len / 2), Some(X86_64.invalid));
        // Merged with free neighbours (also invalid): its edge pages go back too. The
        // generic shadow's threshold (26 pages) would have kept all 16 of them.
        let (f0, f1) = (mem + 2 * page, mem + 30 * page);
        shadow.poison(f0, f1 - f0, X86_64.invalid);
        let n = release_free(
            backing,
            (sa(f0), sa(f1)),
            (sa(a), sa(a + len)),
            X86_64.invalid,
            TAG_SHARE_MIN_POISON_PAGES,
        );
        assert_eq!(n, 17, "pages 4 to 20: every page the block touched");
        assert_eq!(
            backing.state(sa(mem + 4 * page)),
            Some(State::Shared(X86_64.invalid))
        );
        assert_eq!(
            backing.state(sa(mem + 20 * page)),
            Some(State::Shared(X86_64.invalid))
        );
        assert_eq!(
            release_free(
                backing,
                (sa(f0), sa(f1)),
                (sa(a), sa(a + len)),
                X86_64.invalid,
                SHARE_MIN_POISON_PAGES
            ),
            0
        );
    }

    #[test]
    fn vmalloc_neighbours_share_a_page_and_release_it_last() {
        let (_buf, _counts, backing, v, lo) = vspace(8);
        let p = SHADOW_PAGE;
        // Area A: shadow [0.25, 1.5) pages; area B: [1.5, 3) pages (shares page 1).
        let a = (lo + p / 4, lo + p + p / 2);
        let b = (lo + p + p / 2, lo + 3 * p);
        v.populate(backing, a.0, a.1).unwrap();
        assert_eq!(backing.state(lo), Some(State::Real));
        assert_eq!(backing.state(lo + p), Some(State::Real));
        // The edges read invalid outside the area.
        // SAFETY: populated test pages.
        assert_eq!(unsafe { *((lo + 8) as *const u8) }, VMALLOC_INVALID);
        assert_eq!(
            // SAFETY: as above.
            unsafe { *((lo + p + p / 2 + 8) as *const u8) },
            VMALLOC_INVALID
        );
        v.populate(backing, b.0, b.1).unwrap();
        assert_eq!(v.mapped_pages(), 3);
        assert!(v.readable(lo + p) && v.readable(lo + 2 * p) && !v.readable(lo + 3 * p));
        // Releasing A frees page 0 only; page 1 is still B's.
        assert_eq!(v.release(backing, a.0, a.1), Ok(1));
        assert_eq!(backing.state(lo), Some(State::Unmapped));
        assert_eq!(backing.state(lo + p), Some(State::Real));
        assert_eq!(v.release(backing, b.0, b.1), Ok(2));
        assert_eq!(v.mapped_pages(), 0);
        assert!(!v.readable(lo + p));
        // Outside the space: nothing to do.
        assert_eq!(v.populate(backing, lo + 9 * p, lo + 10 * p), Ok(()));
    }

    #[test]
    fn vmalloc_released_pages_are_kept_for_reuse_newest_first_up_to_the_limit() {
        let (_buf, _counts, backing, v, lo) = vspace(8);
        let p = SHADOW_PAGE;
        v.set_cache_max(2);
        // Area [0.5, 3.5) pages: 4 pages; released, the 2 released last are kept
        // mapped, the 2 cached before them make room and are unmapped.
        let (a_lo, a_hi) = (lo + p / 2, lo + 3 * p + p / 2);
        v.populate(backing, a_lo, a_hi).unwrap();
        // SAFETY: populated test pages, written as the area's unpoison would.
        unsafe { crate::shadow::fill(a_lo, 0, a_hi - a_lo) };
        assert_eq!(v.release(backing, a_lo, a_hi), Ok(2));
        assert_eq!(v.cached_pages(), 2);
        assert_eq!(v.mapped_pages(), 2);
        assert!(!v.readable(lo) && !v.readable(lo + p));
        assert!(v.readable(lo + 2 * p) && v.readable(lo + 3 * p));
        assert_eq!(backing.state(lo), Some(State::Unmapped));
        assert_eq!(backing.state(lo + 3 * p), Some(State::Real));
        // A new area on the kept pages maps nothing, and its edge reads invalid
        // outside it although the page still held the old area's zeros.
        let calls = backing.calls.load(Ordering::Relaxed);
        let (b_lo, b_hi) = (lo + 2 * p + p / 4, lo + 3 * p + p / 4);
        v.populate(backing, b_lo, b_hi).unwrap();
        assert_eq!(backing.calls.load(Ordering::Relaxed), calls);
        assert_eq!(v.cached_pages(), 0);
        // SAFETY: populated test pages.
        assert_eq!(unsafe { *((lo + 2 * p + 8) as *const u8) }, VMALLOC_INVALID);
        // SAFETY: as above.
        let past_end = unsafe { *((lo + 3 * p + p / 2) as *const u8) };
        assert_eq!(past_end, VMALLOC_INVALID);
        assert_eq!(v.release(backing, b_lo, b_hi), Ok(0));
        assert_eq!(v.cached_pages(), 2);
        // A third area elsewhere: its page is cached last, so the page cached
        // longest ago (page 2) makes room for it.
        v.populate(backing, lo + 5 * p + p / 4, lo + 5 * p + p / 2)
            .unwrap();
        assert_eq!(
            v.release(backing, lo + 5 * p + p / 4, lo + 5 * p + p / 2),
            Ok(1)
        );
        assert!(!v.readable(lo + 2 * p) && v.readable(lo + 3 * p) && v.readable(lo + 5 * p));
        assert_eq!(v.cached_pages(), 2);
        // vm_unmap_aliases: everything kept is unmapped.
        assert_eq!(v.drop_cache(backing), Ok(2));
        assert_eq!(v.mapped_pages(), 0);
        assert_eq!(v.cached_pages(), 0);
        assert!(!v.readable(lo));
        assert_eq!(backing.state(lo), Some(State::Unmapped));
    }

    #[test]
    fn vmalloc_cache_ring_wraps_without_losing_or_leaking_pages() {
        let (_buf, _counts, backing, v, lo) = vspace(8);
        let p = SHADOW_PAGE;
        v.set_cache_max(2);
        // One page taken and released again and again: the ring fills with stale
        // entries and wraps (more times than the sequence bits a count keeps), the
        // page stays mapped and is never mapped again.
        let (a_lo, a_hi) = (lo + p / 4, lo + p / 2);
        v.populate(backing, a_lo, a_hi).unwrap();
        let calls = backing.calls.load(Ordering::Relaxed);
        for _ in 0..3 * (1 << 14) {
            assert_eq!(v.release(backing, a_lo, a_hi), Ok(0));
            v.populate(backing, a_lo, a_hi).unwrap();
        }
        assert_eq!(backing.calls.load(Ordering::Relaxed), calls);
        assert_eq!(v.mapped_pages(), 1);
        // Two more pages cached after it: it is the oldest, and makes room.
        assert_eq!(v.release(backing, a_lo, a_hi), Ok(0));
        for q in [3, 5] {
            v.populate(backing, lo + q * p + 8, lo + q * p + 16)
                .unwrap();
        }
        for q in [3, 5] {
            let released = v.release(backing, lo + q * p + 8, lo + q * p + 16).unwrap();
            assert_eq!(released, usize::from(q == 5));
        }
        assert!(!v.readable(lo) && v.readable(lo + 3 * p) && v.readable(lo + 5 * p));
        assert_eq!((v.cached_pages(), v.mapped_pages()), (2, 2));
        assert_eq!(v.drop_cache(backing), Ok(2));
        assert_eq!((v.cached_pages(), v.mapped_pages()), (0, 0));
        assert_eq!(backing.state(lo + 5 * p), Some(State::Unmapped));
    }

    #[test]
    fn vmalloc_failed_populate_changes_nothing() {
        let (_buf, _counts, backing, v, lo) = vspace(8);
        let p = SHADOW_PAGE;
        v.populate(backing, lo, lo + p + 8).unwrap();
        backing.fail_populate.store(true, Ordering::Relaxed);
        // Shares page 1 with the first area, needs pages 2..4 new: fails.
        assert_eq!(
            v.populate(backing, lo + p + 16, lo + 4 * p),
            Err(PopulateError::NoMemory)
        );
        backing.fail_populate.store(false, Ordering::Relaxed);
        assert_eq!(v.mapped_pages(), 2);
        assert_eq!(backing.state(lo + 2 * p), Some(State::Unmapped));
        // Page 1 still has exactly one user: releasing the first area unmaps it.
        assert_eq!(v.release(backing, lo, lo + p + 8), Ok(2));
        assert_eq!(v.mapped_pages(), 0);
    }

    #[test]
    fn vmalloc_concurrent_populate_and_release() {
        let (_buf, counts, backing, v, lo) = vspace(64);
        let p = SHADOW_PAGE;
        std::thread::scope(|s| {
            for t in 0..2usize {
                s.spawn(move || {
                    let mut seed = 0x9E37_79B9_7F4A_7C15u64 ^ t as u64;
                    let mut live: Vec<(usize, usize)> = Vec::new();
                    for _ in 0..4000 {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        if live.len() < 8 && seed & 1 == 0 {
                            // Each thread's areas lie in its own half, 8-byte granules of
                            // shadow, so areas of both threads meet on page 31/32.
                            let half = 32 * p;
                            let start =
                                lo + t * half + (seed as usize >> 8) % (half - 2 * p) / 8 * 8;
                            let len = 8 + (seed as usize >> 40) % (2 * p) / 8 * 8;
                            v.populate(backing, start, start + len).unwrap();
                            live.push((start, start + len));
                        } else if let Some(area) = live.pop() {
                            v.release(backing, area.0, area.1).unwrap();
                        }
                    }
                    for area in live {
                        v.release(backing, area.0, area.1).unwrap();
                    }
                });
            }
        });
        assert_eq!(v.mapped_pages(), 0);
        assert!(counts.iter().all(|&c| c == 0));
        for i in 0..64 {
            assert_ne!(
                backing.state(lo + i * p),
                Some(State::Real),
                "page {i} left mapped"
            );
        }
    }

    #[test]
    fn vmalloc_populates_map_outside_the_lock_and_wait_for_pending_pages() {
        // Four threads populate and release overlapping areas on 6 pages, with a slow
        // platform: pages are often pending when another thread needs them. No page
        // is ever mapped twice (the fake asserts it), every page of an area is mapped
        // when its populate returns, and all is unmapped at the end.
        fn thread_id() -> usize {
            std::thread_local!(static HERE: u8 = const { 0 });
            HERE.with(|h| h as *const u8 as usize)
        }
        crate::sync::set_context_source(thread_id);
        let (_buf, counts, backing, v, lo) = vspace(6);
        backing.slow_populate.store(true, Ordering::Relaxed);
        let p = SHADOW_PAGE;
        let waited = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for t in 0..4usize {
                let waited = &waited;
                s.spawn(move || {
                    let mut seed = 0x2545_F491_4F6C_DD1Du64 ^ (t as u64 * 0x9E37);
                    let mut live: Vec<(usize, usize)> = Vec::new();
                    for _ in 0..400 {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        if live.len() < 3 && seed & 1 == 0 {
                            let start = lo + (seed as usize >> 8) % (5 * p) / 8 * 8;
                            let len = 8 + (seed as usize >> 40) % (p + p / 2) / 8 * 8;
                            let end = (start + len).min(lo + 6 * p);
                            let before = std::time::Instant::now();
                            v.populate(backing, start, end).unwrap();
                            if before.elapsed() > std::time::Duration::from_micros(40) {
                                waited.fetch_add(1, Ordering::Relaxed);
                            }
                            let mut page = page_down(start);
                            while page < end {
                                assert_eq!(backing.state(page), Some(State::Real));
                                page += p;
                            }
                            live.push((start, end));
                        } else if let Some(area) = live.pop() {
                            v.release(backing, area.0, area.1).unwrap();
                        }
                    }
                    for area in live {
                        v.release(backing, area.0, area.1).unwrap();
                    }
                });
            }
        });
        assert!(
            waited.load(Ordering::Relaxed) > 0,
            "no populate ever mapped"
        );
        assert_eq!(v.mapped_pages(), 0);
        assert!(counts.iter().all(|&c| c == 0));
        for i in 0..6 {
            assert_eq!(backing.state(lo + i * p), Some(State::Unmapped), "page {i}");
        }
    }
}
