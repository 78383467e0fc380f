//! The stack ring of the tag-based modes: where slab alloc and free tracks live when
//! objects carry no per-object metadata (Linux's `mm/kasan/tags.c` stack ring, 6.8+).
//!
//! Every slab alloc and free appends one 32-byte [`Entry`] — the tagged pointer, the
//! object size, whether it is a free, the task and its saved stack (a depot handle
//! taken with `GET`) and a timestamp. A report scans the ring newest first for the
//! buggy object seen through the access's tag and applies Linux's rule
//! (`kasan_complete_mode_report_info`): entries of another pointer, tag or size are
//! skipped; the first free met gives the free track and makes the bug a
//! use-after-free, the first alloc met gives the alloc track and makes it an
//! out-of-bounds; a second free or a second alloc ends the scan, as does having both.
//!
//! Two designs ([`RingDesign`]), chosen at start-up (`kasan.stack_ring=`):
//!
//! - **Global**: one ring, one position counter, entries ordered by position (Linux's).
//! - **Per-CPU**: one ring per CPU, each with its own counter and entries on their own
//!   cache lines; nothing is shared by writers on different CPUs. A scan walks every
//!   ring, keeps the newest [`MERGE_CAPACITY`] matching entries in a fixed buffer
//!   ordered by `(time, free newer than alloc, ring index, position)` and runs Linux's
//!   loop over that order.
//!
//! ```text
//!  mapping:  | header 0 (128 B) | .. | header R-1 | ring 0: N entries | .. | ring R-1 |
//!  header:   | pos | busy | dropped | filled |            (one line pair per ring)
//!  entry:    | ptr: usize (0 empty, 1 BUSY, else tagged) | seq: u32 | stack: u32 |
//!            | pid: u32 | size_free: u32 (bit 31 = free) | time: u64 |      = 32 bytes
//!  seq:      (pos << 1) | 1 = published at position pos; even = empty or being written
//! ```
//!
//! **Memory.** The core never allocates: [`StackRing::init`] takes the whole mapping
//! (headers and entries, rounded up to a power of two per ring) in one call of
//! [`PoolSource::map_pool`], the depot's own memory contract (zeroed, writable, mapped
//! for the process's life). All-zero is a valid empty ring, so nothing is written at
//! init. If the mapping fails the ring stays off: records only put their handle, scans
//! find nothing (Linux: no stack traces).
//!
//! **Writing.** A writer takes `pos = fetch_add(1)` on its ring's counter and claims the
//! slot `pos % N` by a CAS of `ptr` from its old value to BUSY; a slot already BUSY (a
//! writer preempted mid-record, or the record this one interrupted on the same thread)
//! or a lost CAS costs one position and the writer takes the next one — nobody ever
//! waits, so a signal handler may record while its thread is inside a record. After
//! `N` failed positions the event is dropped (its handle put). The owner marks `seq`
//! even, fences, writes the fields, publishes `seq = (pos << 1) | 1` with Release and
//! finally releases the slot by storing the tagged pointer. The CAS makes exactly one
//! writer the owner of the handle it overwrites, and that writer puts it once, after
//! the entry is published (eviction; off only for the benchmark's comparison).
//!
//! **Reading.** Each entry is a seqlock whose version word is `seq`: `s1 = seq`
//! (Acquire) must be odd (published); then `ptr` and the fields are read, an Acquire
//! fence, and `s2 = seq` must still equal `s1`. A value written by a later writer is
//! written after that writer's even store and Release fence, so a reader that saw it
//! sees `seq` changed at `s2`. Positions of one slot differ by `N`, so `seq` does not
//! repeat within 2³¹ records of that slot: no ABA. (`ptr` is data to the reader; an
//! entry whose `ptr` is BUSY or another pointer is simply not ours.)
//!
//! **Scanning.** A scan walks each ring over its `N` slots, from the slot of the newest
//! position taken when the walk begins back to the oldest, and takes the entry in a
//! slot if it was published at that position *or an older one of the same slot*: a
//! position whose writer has not claimed its slot yet (or gave it up as busy) still
//! holds the older entry. Entries of positions taken after the walk began are ignored.
//! Matching entries go into a fixed buffer of the newest [`MERGE_CAPACITY`], ordered
//! by their own position (global) or by `(time, free, ring, position)` (per-CPU), and
//! Linux's loop runs over that buffer newest first — so an old entry met in a newer
//! slot is still placed by its own position, and no scan ever waits for a writer.

//! ## Why the per-CPU order is right
//!
//! *The clock.* Entries are ordered across rings by a timestamp that the writer takes
//! after it has claimed its slot (so for an allocation, after the allocator handed the
//! object out; for a free, before the object returns to a free list, since the heap
//! records a free before releasing the slot). On x86-64 the host's clock is
//! `lfence; rdtsc` on an invariant TSC, which the kernel keeps synchronised across cores
//! (when it cannot, it marks the TSC unstable and the host falls back to
//! `CLOCK_MONOTONIC`, also globally monotonic). The `lfence` keeps `rdtsc` from running
//! ahead of the loads before it (the claim of the slot); a store cannot become visible
//! before an earlier `rdtsc` executed. So when a free on one CPU publishes an object and
//! an allocation on another CPU obtains it, the free's time is at most the allocation's
//! unless the cache-line handoff between them (tens of nanoseconds) is shorter than the
//! TSC skew (a few ticks).
//!
//! *Ties.* Two events of one tagged object with the same timestamp (skew, or a coarse
//! fallback clock) are ordered free after alloc: one object's life only allows that
//! order, since two allocations of one tagged pointer are always separated by a free.
//! Events of different objects never need ordering — a scan filters by tagged pointer
//! and size first. Remaining ties go by ring index and position, only so that the
//! result is deterministic.
//!
//! *Migration mid-record.* The ring index is only storage. A thread that read CPU 0 and
//! was migrated writes ring 0 from CPU 1: the CAS still gives it exclusive use of the
//! entry and the timestamp is global, so the merge is unaffected; two threads sharing a
//! ring only share its counter. A thread preempted between taking its timestamp and
//! publishing publishes an entry whose time is older than entries written meanwhile;
//! the merge sorts by time, not by position, so it lands where it belongs.
//!
//! *Torn entries.* An entry being written is BUSY or has an even `seq` and is skipped
//! (the event is concurrent with the report, which Linux would have waited for); one
//! rewritten while it is read fails the `seq` check, is skipped and counted in
//! [`RingStats::torn`]. No lock is needed: reports never block writers and writers never
//! wait.
#![allow(unsafe_code)]

use core::sync::atomic::{
    fence, AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering,
};

use crate::mode::{Clock, Ring, RingFind};
use crate::report::Track;
use crate::stack::{Handle, PoolSource, StackDepot};

/// The `ptr` of an entry a writer owns.
pub const BUSY: usize = 1;
/// The smallest ring of the per-CPU design.
pub const MIN_PERCPU_ENTRIES: usize = 1024;
/// The largest ring (entries per ring) [`StackRing::init`] accepts.
pub const MAX_ENTRIES: usize = 1 << 28;
/// Matching entries a scan keeps (the newest ones) before running Linux's loop.
pub const MERGE_CAPACITY: usize = 64;
/// The `size_free` bit of a free.
const FREE_BIT: u32 = 1 << 31;
/// Bytes of one ring header.
const HEADER_BYTES: usize = 128;

/// One event, 32 bytes, every field atomic so racy reads are defined.
#[derive(Debug, Default)]
#[repr(C, align(32))]
pub struct Entry {
    /// 0 empty, [`BUSY`] being written, else the tagged object pointer.
    ptr: AtomicUsize,
    /// `(pos << 1) | 1` once published; even while empty or being written.
    seq: AtomicU32,
    /// The depot handle of the stack.
    stack: AtomicU32,
    /// The task id.
    pid: AtomicU32,
    /// The object size, bit 31 set for a free.
    size_free: AtomicU32,
    /// The clock when the writer claimed the entry.
    time: AtomicU64,
}

const _: () = assert!(core::mem::size_of::<Entry>() == 32);

/// A ring's counters, on a line pair of their own.
#[derive(Debug, Default)]
#[repr(C, align(128))]
struct Header {
    /// Positions taken.
    pos: AtomicUsize,
    /// Positions given up because the slot was BUSY or its CAS was lost.
    busy: AtomicUsize,
    /// Events dropped after `N` busy positions.
    dropped: AtomicUsize,
    /// Records that filled a never-used slot (the rest overwrote one).
    filled: AtomicUsize,
}

const _: () = assert!(core::mem::size_of::<Header>() == HEADER_BYTES);

/// Which stack ring (`kasan.stack_ring=`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RingDesign {
    /// One ring and one position counter for every CPU (Linux's).
    Global,
    /// One ring per CPU, merged by time at report time.
    PerCpu,
}

/// Ring figures for `kasan.stats` and the benchmark.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct RingStats {
    /// Rings (0 while off, 1 for the global design).
    pub rings: usize,
    /// Entries in each ring.
    pub entries_per_ring: usize,
    /// Bytes mapped for headers and entries.
    pub bytes: usize,
    /// Events stored.
    pub records: usize,
    /// Positions skipped because their slot was busy.
    pub busy: usize,
    /// Events dropped because every slot tried was busy.
    pub dropped: usize,
    /// Entries overwritten by a newer event (their handle was put when eviction is on).
    pub evictions: usize,
    /// Matching entries skipped by a scan because they were rewritten while read.
    pub torn: usize,
}

const UNINIT: u8 = 0;
const STARTING: u8 = 1;
const READY: u8 = 2;
const OFF: u8 = 3;

/// The stack ring: a const-constructed static, mapped by [`StackRing::init`].
pub struct StackRing {
    /// UNINIT → STARTING → READY or OFF; READY is published with Release after the
    /// fields below are written.
    state: AtomicU8,
    base: AtomicPtr<u8>,
    rings: AtomicUsize,
    entries: AtomicUsize,
    bytes: AtomicUsize,
    design: AtomicU8,
    evict: AtomicBool,
    torn: AtomicUsize,
}

impl core::fmt::Debug for StackRing {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("StackRing")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl Default for StackRing {
    fn default() -> Self {
        StackRing::new()
    }
}

/// A ready ring's memory.
#[derive(Clone, Copy)]
struct View {
    headers: &'static [Header],
    entries: &'static [Entry],
    /// Entries per ring (a power of two).
    n: usize,
    design: RingDesign,
    evict: bool,
}

impl View {
    fn ring(&self, r: usize) -> (&'static Header, &'static [Entry]) {
        (
            &self.headers[r],
            &self.entries[r * self.n..(r + 1) * self.n],
        )
    }
}

/// The `seq` of an entry published at `pos`.
fn published(pos: usize) -> u32 {
    ((pos as u32) << 1) | 1
}

/// One entry as a scan saw it (consistent).
#[derive(Clone, Copy, Default)]
struct Seen {
    is_free: bool,
    track: Track,
    /// The merge key, newest = greatest: (time, free, ring, position).
    key: (u64, bool, usize, usize),
}

/// Linux's loop over matching entries, newest first.
#[derive(Default)]
struct Classify {
    found: RingFind,
}

impl Classify {
    /// Takes the next older matching entry; false when the scan is over.
    fn offer(&mut self, is_free: bool, track: Track) -> bool {
        let slot = if is_free {
            &mut self.found.free
        } else {
            &mut self.found.alloc
        };
        if slot.is_some() {
            // A second free (or alloc) of the object: give up on the other kind.
            return false;
        }
        *slot = Some(track);
        // The newest matching event decides the bug type.
        self.found.newest_is_free.get_or_insert(is_free);
        !(self.found.alloc.is_some() && self.found.free.is_some())
    }
}

impl StackRing {
    /// An off ring; [`StackRing::init`] maps it.
    pub const fn new() -> StackRing {
        StackRing {
            state: AtomicU8::new(UNINIT),
            base: AtomicPtr::new(core::ptr::null_mut()),
            rings: AtomicUsize::new(0),
            entries: AtomicUsize::new(0),
            bytes: AtomicUsize::new(0),
            design: AtomicU8::new(0),
            evict: AtomicBool::new(true),
            torn: AtomicUsize::new(0),
        }
    }

    /// Maps the ring: `entries` is `kasan.stack_ring_size` (the global ring gets
    /// `entries` rounded up to a power of two, each of `cpus` per-CPU rings
    /// `max(1024, next_pow2(entries / cpus))`), `evict` whether the ring owns its
    /// handles (`GET` references, put when overwritten). The memory is one
    /// [`PoolSource::map_pool`] call. Returns false — no stack traces — if `entries` is 0
    /// or too large, or the memory cannot be had, or the ring was already initialised
    /// (the first call decides).
    pub fn init(
        &self,
        design: RingDesign,
        entries: usize,
        cpus: usize,
        evict: bool,
        pools: &dyn PoolSource,
    ) -> bool {
        // Relaxed: only one caller may win; the fields it writes are published by the
        // Release store of READY below.
        if self
            .state
            .compare_exchange(UNINIT, STARTING, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
        {
            return false;
        }
        let layout = match design {
            RingDesign::Global => Some((1, entries)),
            RingDesign::PerCpu => {
                Some((cpus.max(1), (entries / cpus.max(1)).max(MIN_PERCPU_ENTRIES)))
            }
        }
        .filter(|_| entries > 0)
        .and_then(|(rings, want)| {
            let n = want.checked_next_power_of_two()?;
            let bytes = n
                .checked_mul(32)?
                .checked_add(HEADER_BYTES)?
                .checked_mul(rings)?;
            (n <= MAX_ENTRIES).then_some((rings, n, bytes))
        });
        let Some((rings, n, bytes)) = layout else {
            // Release pairs with the Acquire in `view`.
            self.state.store(OFF, Ordering::Release);
            return false;
        };
        // One spare header's worth, so the start can be aligned for the headers.
        let Some(raw) = pools
            .map_pool(bytes + HEADER_BYTES)
            .filter(|p| !p.is_null())
        else {
            // Release pairs with the Acquire in `view`.
            self.state.store(OFF, Ordering::Release);
            return false;
        };
        let base = raw.wrapping_add(raw.align_offset(HEADER_BYTES));
        // Relaxed: published by the Release store of READY.
        self.base.store(base, Ordering::Relaxed);
        self.rings.store(rings, Ordering::Relaxed);
        self.entries.store(n, Ordering::Relaxed);
        self.bytes.store(bytes, Ordering::Relaxed);
        self.design.store(design as u8, Ordering::Relaxed);
        self.evict.store(evict, Ordering::Relaxed);
        // Release pairs with the Acquire in `view`: a thread that sees READY sees the
        // layout above.
        self.state.store(READY, Ordering::Release);
        true
    }

    /// The design, once initialised.
    pub fn design(&self) -> Option<RingDesign> {
        self.view().map(|v| v.design)
    }

    fn view(&self) -> Option<View> {
        // Acquire pairs with the Release store of READY in `init`.
        if self.state.load(Ordering::Acquire) != READY {
            return None;
        }
        // Relaxed: written before READY was published (see above).
        let base = self.base.load(Ordering::Relaxed);
        let rings = self.rings.load(Ordering::Relaxed);
        let n = self.entries.load(Ordering::Relaxed);
        let design = if self.design.load(Ordering::Relaxed) == RingDesign::PerCpu as u8 {
            RingDesign::PerCpu
        } else {
            RingDesign::Global
        };
        let evict = self.evict.load(Ordering::Relaxed);
        // SAFETY: `init` obtained `rings * (HEADER_BYTES + 32 * n)` bytes at `base` (after
        // aligning to HEADER_BYTES within the spare bytes it asked for) from a
        // PoolSource, whose contract is zeroed, writable memory mapped for the
        // process's life and given to this caller only. All-zero is a valid `Header`
        // and `Entry` (atomics only); the entries start at a multiple of 128 bytes
        // from the aligned base, so both arrays are aligned; nobody ever frees or
        // accesses this memory other than through these shared references to atomics.
        let (headers, entries) = unsafe {
            let headers = core::slice::from_raw_parts(base as *const Header, rings);
            let entries = core::slice::from_raw_parts(
                base.add(rings * HEADER_BYTES) as *const Entry,
                rings * n,
            );
            (headers, entries)
        };
        Some(View {
            headers,
            entries,
            n,
            design,
            evict,
        })
    }

    /// Records one event of the object whose tagged pointer is `tagged`; consumes
    /// `track.stack` (put now if the ring is off or the event is dropped; else the ring
    /// owns it until an overwrite puts it). `cpu` picks the ring in the per-CPU design
    /// (any value: it is taken modulo the rings). Never waits: callable from a signal
    /// handler nested in another record on the same thread.
    #[allow(clippy::too_many_arguments)]
    pub fn record(
        &self,
        tagged: usize,
        object_size: u32,
        is_free: bool,
        track: &Track,
        cpu: usize,
        clock: &dyn Clock,
        depot: &StackDepot,
    ) {
        let Some(v) = self.view().filter(|_| tagged > BUSY) else {
            depot.put(track.stack);
            return;
        };
        let r = match v.design {
            RingDesign::Global => 0,
            // No division on the hot path: a CPU number is below the CPU count.
            RingDesign::PerCpu if cpu < v.headers.len() => cpu,
            RingDesign::PerCpu => cpu % v.headers.len(),
        };
        let (header, ring) = v.ring(r);
        let size_free = (object_size & !FREE_BIT) | if is_free { FREE_BIT } else { 0 };
        for _ in 0..v.n {
            // Relaxed: the counter only hands out positions; the entry's CAS orders.
            let pos = header.pos.fetch_add(1, Ordering::Relaxed);
            let e = &ring[pos & (v.n - 1)];
            // Relaxed: only a guess for the CAS below.
            let old = e.ptr.load(Ordering::Relaxed);
            // Acquire pairs with the Release store of `ptr` that ended the previous
            // owner's write: its fields (the stack we will put) and `seq` are visible
            // and our stores come after its stores.
            if old == BUSY
                || e.ptr
                    .compare_exchange(old, BUSY, Ordering::Acquire, Ordering::Relaxed)
                    .is_err()
            {
                // Relaxed: statistics.
                header.busy.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            // Relaxed: we own the entry (see the CAS).
            let old_stack = e.stack.load(Ordering::Relaxed);
            // Relaxed: ordered before the field stores by the fence below.
            e.seq.store((pos as u32) << 1, Ordering::Relaxed);
            // Pairs with the Acquire fence in `read`: a reader that sees any field
            // stored below also sees `seq` even (or newer) when it reads it again.
            fence(Ordering::Release);
            // Relaxed: published by the Release store of `seq`.
            e.stack.store(track.stack.0, Ordering::Relaxed);
            e.pid.store(track.pid, Ordering::Relaxed);
            // The time of the event: after the claim (see the module doc).
            let time = clock.now();
            // Relaxed: as above.
            e.size_free.store(size_free, Ordering::Relaxed);
            e.time.store(time, Ordering::Relaxed);
            // Release pairs with the Acquire load of `seq` in `read`.
            e.seq.store(published(pos), Ordering::Release);
            // Release pairs with the next owner's Acquire CAS (above) and hands the
            // entry over.
            e.ptr.store(tagged, Ordering::Release);
            if old > BUSY {
                if v.evict {
                    depot.put(Handle(old_stack));
                }
            } else {
                // Relaxed: statistics.
                header.filled.fetch_add(1, Ordering::Relaxed);
            }
            return;
        }
        // Relaxed: statistics.
        header.dropped.fetch_add(1, Ordering::Relaxed);
        depot.put(track.stack);
    }

    /// Reads the entry in the slot of position `pos` of ring `r` if it is published at
    /// `pos` or at an older position of the same slot (left there because a writer
    /// found the slot busy and skipped `pos`), names `tagged` with `object_size`, and
    /// was not rewritten while read.
    fn read(&self, e: &Entry, pos: usize, r: usize, tagged: usize, size: u32) -> Option<Seen> {
        // Acquire pairs with the writer's Release store of `seq`: the fields it wrote
        // before are visible.
        let s1 = e.seq.load(Ordering::Acquire);
        // How many positions older than `pos` the entry is (31-bit positions).
        let age = published(pos).wrapping_sub(s1) >> 1;
        if s1 & 1 == 0 || age >= 1 << 29 {
            // Empty, being written, or newer than the scan.
            return None;
        }
        let pos = pos.wrapping_sub(age as usize);
        // Relaxed: validated by the second `seq` load.
        if e.ptr.load(Ordering::Relaxed) != tagged {
            return None;
        }
        let size_free = e.size_free.load(Ordering::Relaxed);
        let stack = e.stack.load(Ordering::Relaxed);
        let pid = e.pid.load(Ordering::Relaxed);
        let time = e.time.load(Ordering::Relaxed);
        // Pairs with the writer's Release fence: if any load above saw a later
        // writer's store, the load below sees that writer's even `seq` or newer.
        fence(Ordering::Acquire);
        // Relaxed: ordered by the fence above.
        if e.seq.load(Ordering::Relaxed) != s1 {
            // Relaxed: statistics.
            self.torn.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        if size_free & !FREE_BIT != size & !FREE_BIT {
            return None;
        }
        let is_free = size_free & FREE_BIT != 0;
        Some(Seen {
            is_free,
            track: Track {
                pid,
                stack: Handle(stack),
                cpu: r as u32,
                time_ns: time,
            },
            key: (time, is_free, r, pos),
        })
    }

    /// Visits ring `r`'s slots from the one of the newest position taken when the walk
    /// begins down to the oldest, giving `f` every consistent matching entry.
    fn scan(&self, v: &View, r: usize, tagged: usize, size: u32, mut f: impl FnMut(Seen)) {
        let (header, ring) = v.ring(r);
        // Relaxed: only a bound; each entry's `seq` says which position it holds.
        let p0 = header.pos.load(Ordering::Relaxed);
        for k in 1..=v.n.min(p0) {
            let pos = p0 - k;
            if let Some(seen) = self.read(&ring[pos & (v.n - 1)], pos, r, tagged, size) {
                f(seen);
            }
        }
    }

    /// Linux's newest-first scan for the object whose tagged pointer is `tagged` (the
    /// object start carrying the access's tag) and whose cache has `object_size`.
    /// Tracks carry the ring index as `cpu` (0 in the global design) and the entry's
    /// clock value as `time_ns`.
    pub fn find(&self, tagged: usize, object_size: u32) -> RingFind {
        let mut c = Classify::default();
        let Some(v) = self.view() else {
            return c.found;
        };
        let mut buf = [Seen::default(); MERGE_CAPACITY];
        let mut len = 0;
        for r in 0..v.headers.len() {
            self.scan(&v, r, tagged, object_size, |mut s| {
                if v.design == RingDesign::Global {
                    // One ring: its positions are the order.
                    s.key = (0, false, 0, s.key.3);
                }
                keep_newest(&mut buf, &mut len, s);
            });
        }
        for s in &buf[..len] {
            if !c.offer(s.is_free, s.track) {
                break;
            }
        }
        c.found
    }

    /// Counters summed over the rings.
    pub fn stats(&self) -> RingStats {
        let mut s = RingStats {
            // Relaxed: statistics.
            torn: self.torn.load(Ordering::Relaxed),
            ..RingStats::default()
        };
        let Some(v) = self.view() else {
            return s;
        };
        s.rings = v.headers.len();
        s.entries_per_ring = v.n;
        // Relaxed: written before READY (see `view`).
        s.bytes = self.bytes.load(Ordering::Relaxed);
        for h in v.headers {
            // Relaxed: statistics (approximate while writers run).
            let pos = h.pos.load(Ordering::Relaxed);
            let busy = h.busy.load(Ordering::Relaxed);
            let filled = h.filled.load(Ordering::Relaxed);
            s.busy += busy;
            s.dropped += h.dropped.load(Ordering::Relaxed);
            let records = pos.saturating_sub(busy);
            s.records += records;
            s.evictions += records.saturating_sub(filled);
        }
        s
    }
}

/// Inserts `s` into `buf[..len]`, kept sorted newest first, dropping the oldest when
/// full.
fn keep_newest(buf: &mut [Seen; MERGE_CAPACITY], len: &mut usize, s: Seen) {
    if *len == MERGE_CAPACITY {
        if s.key <= buf[MERGE_CAPACITY - 1].key {
            return;
        }
        *len -= 1;
    }
    let mut i = *len;
    while i > 0 && buf[i - 1].key < s.key {
        buf[i] = buf[i - 1];
        i -= 1;
    }
    buf[i] = s;
    *len += 1;
}

/// A ring bound to its depot and clock: what the tag mode holds as its
/// [`Ring`] (the runtime keeps one in a static).
pub struct BoundRing {
    /// The ring.
    pub ring: &'static StackRing,
    /// The depot its handles come from.
    pub depot: &'static StackDepot,
    /// The clock its entries are ordered by.
    pub clock: &'static dyn Clock,
}

impl core::fmt::Debug for BoundRing {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("BoundRing")
            .field("ring", self.ring)
            .finish_non_exhaustive()
    }
}

impl Ring for BoundRing {
    fn record(&self, tagged: usize, object_size: u32, is_free: bool, track: &Track, cpu: usize) {
        self.ring.record(
            tagged,
            object_size,
            is_free,
            track,
            cpu,
            self.clock,
            self.depot,
        );
    }

    fn find(&self, tagged: usize, object_size: u32) -> RingFind {
        self.ring.find(tagged, object_size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use crate::stack::SaveFlags;
    use std::cell::Cell;
    use std::sync::atomic::AtomicU32 as Counter;
    use std::vec::Vec;

    const GET: SaveFlags = SaveFlags(SaveFlags::CAN_ALLOC.0 | SaveFlags::GET.0);
    /// A tagged pointer: object `obj` (16-byte aligned) with `tag` in bits 56..63.
    fn tp(obj: usize, tag: u8) -> usize {
        (0x7f00_0000_0000 + obj * 16) | ((tag as usize) << 56)
    }

    struct HeapPools;
    impl PoolSource for HeapPools {
        fn map_pool(&self, bytes: usize) -> Option<*mut u8> {
            let v = std::vec![0u64; bytes.div_ceil(8)].leak();
            Some(v.as_mut_ptr() as *mut u8)
        }
    }

    struct NoPools;
    impl PoolSource for NoPools {
        fn map_pool(&self, _bytes: usize) -> Option<*mut u8> {
            None
        }
    }

    /// 1, 2, 3, ...
    struct Ticks(AtomicU64);
    impl Clock for Ticks {
        fn now(&self) -> u64 {
            self.0.fetch_add(1, Ordering::Relaxed) + 1
        }
    }
    fn ticks() -> Ticks {
        Ticks(AtomicU64::new(0))
    }

    /// Always the same time.
    struct Fixed(u64);
    impl Clock for Fixed {
        fn now(&self) -> u64 {
            self.0
        }
    }

    std::thread_local! {
        static NOW: Cell<u64> = const { Cell::new(0) };
    }
    /// Whatever the calling thread set in `NOW`.
    struct ThreadClock;
    impl Clock for ThreadClock {
        fn now(&self) -> u64 {
            NOW.with(|c| c.get())
        }
    }
    /// [`ThreadClock`], slow to answer: a writer sits between its field stores long
    /// enough for readers to meet half-written entries.
    struct SlowClock;
    impl Clock for SlowClock {
        fn now(&self) -> u64 {
            for _ in 0..200 {
                core::hint::spin_loop();
            }
            NOW.with(|c| c.get())
        }
    }
    fn at(t: u64) -> &'static ThreadClock {
        NOW.with(|c| c.set(t));
        &ThreadClock
    }

    fn ring(design: RingDesign, entries: usize, cpus: usize, evict: bool) -> StackRing {
        let r = StackRing::new();
        assert!(r.init(design, entries, cpus, evict, &HeapPools));
        r
    }

    fn track(pid: u32, stack: Handle) -> Track {
        Track {
            pid,
            stack,
            cpu: 0,
            time_ns: 0,
        }
    }

    /// A distinct refcounted stack for event `id`.
    fn stack(depot: &StackDepot, id: usize) -> Handle {
        let frames = [0x40_0000 + id * 0x100, 0x50_0000 + id, 0x60_0000];
        let h = depot.save_flags(&frames, GET, &HeapPools);
        assert!(h.is_some());
        h
    }

    fn pids(f: &RingFind) -> (Option<u32>, Option<u32>, Option<bool>) {
        (
            f.alloc.map(|t| t.pid),
            f.free.map(|t| t.pid),
            f.newest_is_free,
        )
    }

    const BOTH: [RingDesign; 2] = [RingDesign::Global, RingDesign::PerCpu];

    #[test]
    fn entry_is_32_bytes_and_sizes_round_up() {
        assert_eq!(core::mem::size_of::<Entry>(), 32);
        let g = ring(RingDesign::Global, 1000, 4, true);
        assert_eq!((g.stats().rings, g.stats().entries_per_ring), (1, 1024));
        assert_eq!(g.stats().bytes, 128 + 1024 * 32);
        let p = ring(RingDesign::PerCpu, 32768, 3, true);
        assert_eq!((p.stats().rings, p.stats().entries_per_ring), (3, 16384));
        let small = ring(RingDesign::PerCpu, 2048, 8, true);
        assert_eq!(small.stats().entries_per_ring, MIN_PERCPU_ENTRIES);
        assert_eq!(small.design(), Some(RingDesign::PerCpu));
    }

    #[test]
    fn linux_loop_rules_in_both_designs() {
        let depot = StackDepot::new();
        for design in BOTH {
            let r = ring(design, 4096, 2, true);
            let c = ticks();
            let x = tp(1, 0x3);
            let rec = |pid: u32, free: bool, cpu: usize| {
                r.record(x, 64, free, &track(pid, Handle::NONE), cpu, &c, &depot)
            };
            // Nothing recorded: nothing found.
            assert_eq!(r.find(x, 64), RingFind::default());
            rec(1, false, 0);
            // Only an alloc: out-of-bounds with the alloc track.
            assert_eq!(pids(&r.find(x, 64)), (Some(1), None, Some(false)));
            rec(2, true, 1);
            // Alloc then free: use-after-free with both tracks.
            assert_eq!(pids(&r.find(x, 64)), (Some(1), Some(2), Some(true)));
            rec(3, false, 0);
            // Reallocated with the same tag: the newest alloc, the free before it.
            assert_eq!(pids(&r.find(x, 64)), (Some(3), Some(2), Some(false)));
            rec(4, true, 1);
            assert_eq!(pids(&r.find(x, 64)), (Some(3), Some(4), Some(true)));
            rec(5, true, 0);
            // Two frees in a row: the second free met ends the scan before any alloc.
            assert_eq!(pids(&r.find(x, 64)), (None, Some(5), Some(true)));
            // Another tag, another size, another object: never matched.
            assert_eq!(r.find(tp(1, 0x4), 64), RingFind::default());
            assert_eq!(r.find(x, 32), RingFind::default());
            assert_eq!(r.find(tp(2, 0x3), 64), RingFind::default());

            let y = tp(7, 0xa);
            r.record(y, 128, false, &track(10, Handle::NONE), 1, &c, &depot);
            r.record(y, 128, false, &track(11, Handle::NONE), 0, &c, &depot);
            // Two allocs (a constructor cache's kept tag): the second ends the scan.
            assert_eq!(pids(&r.find(y, 128)), (Some(11), None, Some(false)));
            // Entries of other sizes between do not count.
            r.record(y, 96, true, &track(12, Handle::NONE), 0, &c, &depot);
            assert_eq!(pids(&r.find(y, 128)), (Some(11), None, Some(false)));
            assert_eq!(pids(&r.find(y, 96)), (None, Some(12), Some(true)));
        }
    }

    #[test]
    fn tracks_carry_pid_stack_ring_and_time() {
        let depot = StackDepot::new();
        let h = stack(&depot, 1);
        let r = ring(RingDesign::PerCpu, 4096, 2, true);
        r.record(tp(3, 1), 16, false, &track(42, h), 5, &Fixed(777), &depot);
        let t = r.find(tp(3, 1), 16).alloc.unwrap();
        assert_eq!(
            t,
            Track {
                pid: 42,
                stack: h,
                cpu: 1,
                time_ns: 777
            }
        );
        let g = ring(RingDesign::Global, 64, 2, true);
        g.record(tp(3, 1), 16, true, &track(43, h), 5, &Fixed(9), &depot);
        assert_eq!(g.find(tp(3, 1), 16).free.unwrap().cpu, 0);
    }

    #[test]
    fn wrap_around_keeps_the_newest_entries() {
        let depot = StackDepot::new();
        let c = ticks();
        let g = ring(RingDesign::Global, 8, 1, true);
        for i in 0..20 {
            g.record(
                tp(i, 2),
                32,
                false,
                &track(i as u32, Handle::NONE),
                0,
                &c,
                &depot,
            );
        }
        for i in 0..20 {
            let want = (i >= 12).then_some(i as u32);
            assert_eq!(
                g.find(tp(i, 2), 32).alloc.map(|t| t.pid),
                want,
                "object {i}"
            );
        }
        let s = g.stats();
        assert_eq!((s.records, s.evictions, s.busy, s.dropped), (20, 12, 0, 0));

        let p = ring(RingDesign::PerCpu, 1024, 1, true);
        for i in 0..1030 {
            p.record(
                tp(i, 2),
                32,
                i % 2 == 1,
                &track(i as u32, Handle::NONE),
                0,
                &c,
                &depot,
            );
        }
        for i in [0, 5, 6, 1029] {
            let f = p.find(tp(i, 2), 32);
            let got = if i % 2 == 1 { f.free } else { f.alloc };
            assert_eq!(
                got.map(|t| t.pid),
                (i >= 6).then_some(i as u32),
                "object {i}"
            );
        }
        assert_eq!(p.stats().evictions, 6);

        // One object cycled many times through a small ring: the newest pair is found.
        let g = ring(RingDesign::Global, 8, 1, true);
        for i in 0..101u32 {
            g.record(
                tp(9, 5),
                48,
                i % 2 == 1,
                &track(i, Handle::NONE),
                0,
                &c,
                &depot,
            );
        }
        assert_eq!(
            pids(&g.find(tp(9, 5), 48)),
            (Some(100), Some(99), Some(false))
        );
    }

    #[test]
    fn eviction_puts_each_overwritten_handle_once() {
        for design in BOTH {
            let depot = StackDepot::new();
            let r = ring(design, 1024, 1, true);
            let c = ticks();
            let n = r.stats().entries_per_ring;
            for i in 0..3000 {
                let h = stack(&depot, i);
                r.record(tp(i, 1), 64, false, &track(i as u32, h), 0, &c, &depot);
            }
            let d = depot.stats();
            assert_eq!(
                d.in_use, n,
                "{design:?}: the ring holds one reference per entry"
            );
            assert_eq!(d.evicted, 3000 - n);
            assert_eq!(d.bad_puts, 0);
            assert_eq!(r.stats().evictions, 3000 - n);
            // The surviving entries still name their own stacks.
            let t = r.find(tp(2999, 1), 64).alloc.unwrap();
            assert_eq!(depot.fetch(t.stack)[0], 0x40_0000 + 2999 * 0x100);
        }
    }

    #[test]
    fn without_eviction_overwritten_handles_are_kept() {
        let depot = StackDepot::new();
        let r = ring(RingDesign::Global, 8, 1, false);
        let c = ticks();
        for i in 0..20 {
            let h = stack(&depot, i);
            r.record(tp(i, 1), 64, false, &track(i as u32, h), 0, &c, &depot);
        }
        let d = depot.stats();
        assert_eq!((d.in_use, d.evicted, d.bad_puts), (20, 0, 0));
        assert_eq!(r.stats().evictions, 12);
    }

    #[test]
    fn an_off_ring_puts_every_handle_and_finds_nothing() {
        let depot = StackDepot::new();
        let c = ticks();
        let r = StackRing::new();
        let h = stack(&depot, 1);
        r.record(tp(1, 1), 16, false, &track(1, h), 0, &c, &depot);
        assert_eq!(depot.stats().in_use, 0);
        assert_eq!(r.find(tp(1, 1), 16), RingFind::default());
        assert!(!r.init(RingDesign::Global, 64, 1, true, &NoPools));
        assert!(
            !r.init(RingDesign::Global, 64, 1, true, &HeapPools),
            "the first init decides"
        );
        let h = stack(&depot, 2);
        r.record(tp(1, 1), 16, false, &track(1, h), 0, &c, &depot);
        assert_eq!(depot.stats().in_use, 0);
        assert_eq!(r.stats(), RingStats::default());
        assert!(!StackRing::new().init(RingDesign::PerCpu, 0, 2, true, &HeapPools));
        // The twin: an initialised ring keeps the handle.
        let on = ring(RingDesign::Global, 64, 1, true);
        let h = stack(&depot, 3);
        on.record(tp(1, 1), 16, false, &track(1, h), 0, &c, &depot);
        assert_eq!(depot.stats().in_use, 1);
        assert!(!on.init(RingDesign::PerCpu, 64, 1, true, &HeapPools));
        assert_eq!(on.design(), Some(RingDesign::Global));
    }

    #[test]
    fn equal_timestamps_order_free_after_alloc() {
        let depot = StackDepot::new();
        let t = Fixed(5);
        for (alloc_cpu, free_cpu) in [(1, 0), (0, 1), (0, 0)] {
            let r = ring(RingDesign::PerCpu, 2048, 2, true);
            r.record(
                tp(1, 7),
                32,
                false,
                &track(1, Handle::NONE),
                alloc_cpu,
                &t,
                &depot,
            );
            r.record(
                tp(1, 7),
                32,
                true,
                &track(2, Handle::NONE),
                free_cpu,
                &t,
                &depot,
            );
            assert_eq!(pids(&r.find(tp(1, 7), 32)), (Some(1), Some(2), Some(true)));
            // Recorded in the other order at the same tick: still free-newer.
            let r = ring(RingDesign::PerCpu, 2048, 2, true);
            r.record(
                tp(1, 7),
                32,
                true,
                &track(2, Handle::NONE),
                free_cpu,
                &t,
                &depot,
            );
            r.record(
                tp(1, 7),
                32,
                false,
                &track(1, Handle::NONE),
                alloc_cpu,
                &t,
                &depot,
            );
            assert_eq!(pids(&r.find(tp(1, 7), 32)), (Some(1), Some(2), Some(true)));
        }
        // The twin: a later tick makes the reallocation newest (out-of-bounds).
        let r = ring(RingDesign::PerCpu, 2048, 2, true);
        r.record(
            tp(1, 7),
            32,
            true,
            &track(2, Handle::NONE),
            1,
            &Fixed(5),
            &depot,
        );
        r.record(
            tp(1, 7),
            32,
            false,
            &track(3, Handle::NONE),
            0,
            &Fixed(6),
            &depot,
        );
        assert_eq!(pids(&r.find(tp(1, 7), 32)), (Some(3), Some(2), Some(false)));
    }

    #[test]
    fn per_cpu_order_is_by_time_not_ring_or_position() {
        let depot = StackDepot::new();
        let r = ring(RingDesign::PerCpu, 4096, 4, true);
        // A thread allocates on CPU 3 at t=10, migrates, frees on CPU 0 at t=20: ring 0
        // is the lower index and its position is lower, but the free is newest.
        r.record(
            tp(1, 2),
            64,
            false,
            &track(1, Handle::NONE),
            3,
            at(10),
            &depot,
        );
        for i in 0..5 {
            // Ring 3 moves on with other objects.
            r.record(
                tp(100 + i, 2),
                64,
                false,
                &track(9, Handle::NONE),
                3,
                at(11),
                &depot,
            );
        }
        r.record(
            tp(1, 2),
            64,
            true,
            &track(2, Handle::NONE),
            0,
            at(20),
            &depot,
        );
        assert_eq!(pids(&r.find(tp(1, 2), 64)), (Some(1), Some(2), Some(true)));
        // Reallocated on CPU 1, freed again on CPU 6 (= ring 2: any index is storage).
        r.record(
            tp(1, 2),
            64,
            false,
            &track(3, Handle::NONE),
            1,
            at(30),
            &depot,
        );
        assert_eq!(pids(&r.find(tp(1, 2), 64)), (Some(3), Some(2), Some(false)));
        r.record(
            tp(1, 2),
            64,
            true,
            &track(4, Handle::NONE),
            6,
            at(40),
            &depot,
        );
        let f = r.find(tp(1, 2), 64);
        assert_eq!(pids(&f), (Some(3), Some(4), Some(true)));
        assert_eq!((f.alloc.unwrap().cpu, f.free.unwrap().cpu), (1, 2));
        // A writer preempted between its timestamp and its publication: published
        // later (in real time and in its ring) but older by the clock, it sorts older.
        let r = ring(RingDesign::PerCpu, 4096, 2, true);
        r.record(
            tp(5, 9),
            64,
            true,
            &track(6, Handle::NONE),
            1,
            at(50),
            &depot,
        );
        r.record(
            tp(5, 9),
            64,
            false,
            &track(5, Handle::NONE),
            1,
            at(45),
            &depot,
        );
        assert_eq!(pids(&r.find(tp(5, 9), 64)), (Some(5), Some(6), Some(true)));
    }

    #[test]
    fn global_order_is_by_position_not_time() {
        let depot = StackDepot::new();
        let g = ring(RingDesign::Global, 64, 1, true);
        g.record(
            tp(1, 2),
            64,
            false,
            &track(1, Handle::NONE),
            0,
            at(100),
            &depot,
        );
        g.record(
            tp(1, 2),
            64,
            true,
            &track(2, Handle::NONE),
            0,
            at(50),
            &depot,
        );
        assert_eq!(pids(&g.find(tp(1, 2), 64)), (Some(1), Some(2), Some(true)));
        g.record(
            tp(1, 2),
            64,
            false,
            &track(3, Handle::NONE),
            0,
            at(10),
            &depot,
        );
        assert_eq!(pids(&g.find(tp(1, 2), 64)), (Some(3), Some(2), Some(false)));
        // The twin: the per-CPU design orders the same events by time.
        let p = ring(RingDesign::PerCpu, 64, 1, true);
        p.record(
            tp(1, 2),
            64,
            false,
            &track(1, Handle::NONE),
            0,
            at(100),
            &depot,
        );
        p.record(
            tp(1, 2),
            64,
            true,
            &track(2, Handle::NONE),
            0,
            at(50),
            &depot,
        );
        assert_eq!(pids(&p.find(tp(1, 2), 64)), (Some(1), Some(2), Some(false)));
    }

    #[test]
    fn merge_keeps_the_newest_of_many_matches() {
        let depot = StackDepot::new();
        let r = ring(RingDesign::PerCpu, 4096, 2, true);
        // 200 events of one kept-tag object alternating over both rings, shuffled in
        // real order against the clock within each pair.
        for i in 0..200u32 {
            let t = 1000 + 2 * u64::from(i);
            r.record(
                tp(4, 4),
                64,
                i % 2 == 1,
                &track(i, Handle::NONE),
                (i / 3) as usize,
                at(t),
                &depot,
            );
        }
        assert_eq!(
            pids(&r.find(tp(4, 4), 64)),
            (Some(198), Some(199), Some(true))
        );
        // An old event recorded last (clock far behind) does not displace them.
        r.record(
            tp(4, 4),
            64,
            false,
            &track(500, Handle::NONE),
            0,
            at(1),
            &depot,
        );
        assert_eq!(
            pids(&r.find(tp(4, 4), 64)),
            (Some(198), Some(199), Some(true))
        );
        let mut buf = [Seen::default(); MERGE_CAPACITY];
        let mut len = 0;
        for i in (0..300u64).rev().chain(0..300) {
            let s = Seen {
                key: (i * 7 % 300, false, 0, 0),
                ..Seen::default()
            };
            keep_newest(&mut buf, &mut len, s);
        }
        assert_eq!(len, MERGE_CAPACITY);
        // The 32 largest keys, each twice, newest first.
        let keys: Vec<u64> = buf.iter().map(|s| s.key.0).collect();
        let want: Vec<u64> = (268..300).rev().flat_map(|k| [k, k]).collect();
        assert_eq!(keys, want);
    }

    /// A clock that records another event on the same ring the first time it is read
    /// (as a signal handler interrupting a record would).
    struct Nesting<'a> {
        ring: &'a StackRing,
        depot: &'a StackDepot,
        stack: Handle,
        armed: AtomicBool,
    }
    impl Clock for Nesting<'_> {
        fn now(&self) -> u64 {
            if self.armed.swap(false, Ordering::Relaxed) {
                let t = track(99, self.stack);
                self.ring
                    .record(tp(2, 8), 32, false, &t, 0, &Fixed(1), self.depot);
            }
            2
        }
    }

    #[test]
    fn a_record_nested_in_a_record_takes_another_slot() {
        for design in BOTH {
            let depot = StackDepot::new();
            let r = ring(design, 1024, 1, true);
            let clock = Nesting {
                ring: &r,
                depot: &depot,
                stack: stack(&depot, 2),
                armed: AtomicBool::new(true),
            };
            let h = stack(&depot, 1);
            r.record(tp(1, 8), 32, true, &track(1, h), 0, &clock, &depot);
            assert_eq!(r.find(tp(1, 8), 32).free.map(|t| t.pid), Some(1));
            assert_eq!(r.find(tp(2, 8), 32).alloc.map(|t| t.pid), Some(99));
            let s = r.stats();
            assert_eq!((s.records, s.busy, s.dropped), (2, 0, 0));
            assert_eq!(depot.stats().in_use, 2);
        }
        // A one-entry ring: the nested record finds the only slot busy and drops its
        // event (putting its handle) instead of waiting.
        let depot = StackDepot::new();
        let r = ring(RingDesign::Global, 1, 1, true);
        let clock = Nesting {
            ring: &r,
            depot: &depot,
            stack: stack(&depot, 2),
            armed: AtomicBool::new(true),
        };
        let h = stack(&depot, 1);
        r.record(tp(1, 8), 32, true, &track(1, h), 0, &clock, &depot);
        assert_eq!(r.find(tp(1, 8), 32).free.map(|t| t.pid), Some(1));
        assert_eq!(r.find(tp(2, 8), 32), RingFind::default());
        let s = r.stats();
        assert_eq!((s.records, s.busy, s.dropped), (1, 1, 1));
        assert_eq!(depot.stats().in_use, 1);
    }

    /// A clock that scans for `tagged` while the record that reads it is half written.
    struct Peek<'a> {
        ring: &'a StackRing,
        tagged: usize,
        seen: std::sync::Mutex<Option<RingFind>>,
    }
    impl Clock for Peek<'_> {
        fn now(&self) -> u64 {
            *self.seen.lock().unwrap() = Some(self.ring.find(self.tagged, 64));
            9
        }
    }

    #[test]
    fn an_entry_being_written_is_skipped() {
        let depot = StackDepot::new();
        let x = tp(3, 3);
        // One slot: the alloc's entry is being overwritten by the free when the scan
        // runs, so it sees neither the old event nor a half-written one.
        let r = ring(RingDesign::Global, 1, 1, true);
        r.record(x, 64, false, &track(1, Handle::NONE), 0, &Fixed(1), &depot);
        let peek = Peek {
            ring: &r,
            tagged: x,
            seen: std::sync::Mutex::new(None),
        };
        r.record(x, 64, true, &track(2, Handle::NONE), 0, &peek, &depot);
        assert_eq!(*peek.seen.lock().unwrap(), Some(RingFind::default()));
        assert_eq!(pids(&r.find(x, 64)), (None, Some(2), Some(true)));
        assert_eq!(r.stats().torn, 0);
        // The twin: with room for both, the scan mid-write finds the complete alloc.
        for design in BOTH {
            let r = ring(design, 1024, 1, true);
            r.record(x, 64, false, &track(1, Handle::NONE), 0, &Fixed(1), &depot);
            let peek = Peek {
                ring: &r,
                tagged: x,
                seen: std::sync::Mutex::new(None),
            };
            r.record(x, 64, true, &track(2, Handle::NONE), 0, &peek, &depot);
            assert_eq!(
                pids(&peek.seen.lock().unwrap().unwrap()),
                (Some(1), None, Some(false))
            );
            assert_eq!(pids(&r.find(x, 64)), (Some(1), Some(2), Some(true)));
        }
    }

    #[test]
    fn concurrent_writers_lose_nothing_and_put_each_handle_once() {
        const THREADS: usize = 4;
        const EACH: usize = 5000;
        for design in BOTH {
            let depot = StackDepot::new();
            let r = ring(design, 2048, 2, true);
            let c = ticks();
            let handles: Vec<Vec<Handle>> = std::thread::scope(|s| {
                let ws: Vec<_> = (0..THREADS)
                    .map(|t| {
                        let (r, c, depot) = (&r, &c, &depot);
                        s.spawn(move || {
                            (0..EACH)
                                .map(|i| {
                                    let h = stack(depot, t * EACH + i);
                                    let obj = t * EACH + i;
                                    // Threads wander over the rings (migration).
                                    r.record(
                                        tp(obj, 3),
                                        64,
                                        false,
                                        &track(t as u32, h),
                                        t + i,
                                        c,
                                        depot,
                                    );
                                    h
                                })
                                .collect()
                        })
                    })
                    .collect();
                ws.into_iter().map(|w| w.join().unwrap()).collect()
            });
            let live = 2048;
            let s = r.stats();
            assert_eq!((s.records, s.dropped), (THREADS * EACH, 0), "{design:?}");
            assert_eq!(s.evictions, THREADS * EACH - live);
            let d = depot.stats();
            assert_eq!(
                (d.in_use, d.evicted, d.bad_puts),
                (live, THREADS * EACH - live, 0)
            );
            // Exactly the live entries are found, each with its own pid and stack.
            let mut found = 0;
            for (t, hs) in handles.iter().enumerate() {
                for (i, h) in hs.iter().enumerate() {
                    if let Some(a) = r.find(tp(t * EACH + i, 3), 64).alloc {
                        assert_eq!((a.pid, a.stack), (t as u32, *h));
                        found += 1;
                    }
                }
            }
            assert_eq!(found, live, "{design:?}");
        }
    }

    /// The time and stack a writer gives event `pid` (so a mixed entry shows).
    fn time_of(pid: u32) -> u64 {
        u64::from(pid) * 3 + 7
    }

    #[test]
    fn find_while_writers_overwrite_returns_no_torn_entry() {
        for (design, entries) in [(RingDesign::Global, 64), (RingDesign::PerCpu, 2048)] {
            let depot = StackDepot::new();
            let r = ring(design, entries, 2, false);
            let stop = AtomicBool::new(false);
            let (found, torn_seen) = std::thread::scope(|s| {
                for w in 0..2u32 {
                    let (r, depot, stop) = (&r, &depot, &stop);
                    s.spawn(move || {
                        let mut gen = 0u32;
                        while !stop.load(Ordering::Relaxed) {
                            for k in 0..8 {
                                let pid = (gen << 4) | (w << 3) | k;
                                let t = track(pid, Handle(pid ^ 0x5a5a));
                                let obj = (w * 8 + k) as usize;
                                r.record(
                                    tp(obj, 6),
                                    64,
                                    gen % 2 == 1,
                                    &t,
                                    (gen + k) as usize,
                                    {
                                        at(time_of(pid));
                                        &SlowClock
                                    },
                                    depot,
                                );
                            }
                            gen += 1;
                        }
                    });
                }
                // Stops the writers even if an assertion below fails.
                struct Stop<'a>(&'a AtomicBool);
                impl Drop for Stop<'_> {
                    fn drop(&mut self) {
                        self.0.store(true, Ordering::Relaxed);
                    }
                }
                let _stop = Stop(&stop);
                let mut found = 0usize;
                let start = std::time::Instant::now();
                let mut round = 0;
                while (start.elapsed().as_millis() < 300 || found < 5000)
                    && start.elapsed().as_secs() < 10
                {
                    round += 1;
                    let obj = round % 16;
                    let f = r.find(tp(obj, 6), 64);
                    for (t, free) in [(f.alloc, false), (f.free, true)] {
                        let Some(t) = t else { continue };
                        found += 1;
                        assert_eq!(t.time_ns, time_of(t.pid), "torn entry {t:?}");
                        assert_eq!(t.stack, Handle(t.pid ^ 0x5a5a), "torn entry {t:?}");
                        assert_eq!(t.pid & 15, obj as u32, "another object's entry");
                        assert_eq!((t.pid >> 4) % 2 == 1, free, "kind of {t:?}");
                    }
                    if let Some(newest_free) = f.newest_is_free {
                        assert!(if newest_free {
                            f.free.is_some()
                        } else {
                            f.alloc.is_some()
                        });
                        // Newest first: the newest kind is the later generation.
                        if let (Some(a), Some(fr)) = (f.alloc, f.free) {
                            assert_eq!(newest_free, fr.pid > a.pid, "{f:?}");
                        }
                    }
                }
                (found, r.stats().torn)
            });
            assert!(found > 1000, "{design:?}: only {found} tracks found");
            std::println!("{design:?}: {found} tracks found, {torn_seen} torn reads skipped");
        }
    }

    #[test]
    fn find_while_a_writer_runs_is_newest_first() {
        const OBJECTS: usize = 16;
        const EVENTS: u32 = 8000;
        for design in BOTH {
            let depot = StackDepot::new();
            let r = ring(design, 32768, 2, true);
            let published: Vec<Counter> = (0..OBJECTS).map(|_| Counter::new(u32::MAX)).collect();
            std::thread::scope(|s| {
                let (r2, depot2, published2) = (&r, &depot, &published);
                s.spawn(move || {
                    for e in 0..EVENTS {
                        let k = e as usize % OBJECTS;
                        let gen = e / OBJECTS as u32;
                        let t = track(gen, Handle::NONE);
                        // Every event on another ring than the last (per-CPU design).
                        r2.record(
                            tp(k, 1),
                            64,
                            gen % 2 == 1,
                            &t,
                            e as usize,
                            at(u64::from(e) + 1),
                            depot2,
                        );
                        // Release pairs with the reader's Acquire: this event is complete.
                        published2[k].store(gen, Ordering::Release);
                    }
                });
                let mut checked = 0;
                while checked < 4000 || published[OBJECTS - 1].load(Ordering::Relaxed) == u32::MAX {
                    let k = checked % OBJECTS;
                    // Acquire pairs with the writer's Release above.
                    let snap = published[k].load(Ordering::Acquire);
                    let f = r.find(tp(k, 1), 64);
                    checked += 1;
                    if snap == u32::MAX {
                        continue;
                    }
                    let newest = if f.newest_is_free.unwrap() {
                        f.free
                    } else {
                        f.alloc
                    };
                    let g = newest.unwrap().pid;
                    assert!(g >= snap, "{design:?}: found gen {g}, {snap} was complete");
                    assert_eq!(f.newest_is_free, Some(g % 2 == 1));
                    let older = if g % 2 == 1 { f.alloc } else { f.free };
                    assert_eq!(older.map(|t| t.pid), g.checked_sub(1), "{design:?} {f:?}");
                }
            });
            assert_eq!(r.stats().torn, 0, "no entry is rewritten without a wrap");
            assert_eq!(r.stats().records, EVENTS as usize);
        }
    }

    #[test]
    fn bound_ring_forwards_to_its_ring() {
        static RING: StackRing = StackRing::new();
        static DEPOT: StackDepot = StackDepot::new();
        static CLOCK: Fixed = Fixed(3);
        assert!(RING.init(RingDesign::PerCpu, 2048, 2, true, &HeapPools));
        let b = BoundRing {
            ring: &RING,
            depot: &DEPOT,
            clock: &CLOCK,
        };
        let ring: &dyn Ring = &b;
        let h = stack(&DEPOT, 5);
        ring.record(tp(8, 2), 80, true, &track(4, h), 1);
        let f = ring.find(tp(8, 2), 80);
        assert_eq!(
            f.free,
            Some(Track {
                pid: 4,
                stack: h,
                cpu: 1,
                time_ns: 3
            })
        );
        assert_eq!(f.newest_is_free, Some(true));
        assert_eq!(ring.find(tp(8, 2), 64), RingFind::default());
    }
}
