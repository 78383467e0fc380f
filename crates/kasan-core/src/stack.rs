//! Saved stacks for every mode: the stack depot, the frame-pointer walk, and the
//! unwind-rule cache that carries the walk through code built without frame pointers.
//!
//! The depot stores each distinct stack once and names it by a 32-bit handle, so an
//! object's alloc and free tracks cost 4 bytes of stack each. Records are
//! variable-size (16-byte header plus a word a frame), carved from 16 KiB pools that
//! the host maps on demand, up to a byte cap (`kasan.stack_depot_size`) covering the
//! hash table, the pool index and the pools; past the cap a save returns
//! [`Handle::NONE`] and the report says the stack is not available.
//!
//! ```text
//!  handle (u32):  | extra:5 | offset:10 (16-byte units) | pool index + 1:17 |
//!  pool:          | start bitmap (1 bit per 16 bytes, 128 B) | record | record | ... |
//!  record:        | next u32 | hash u32 | meta u32 | count u32 | pc[0] .. pc[n-1] |
//!  meta:          | generation:23 | frames:9 |
//!  count:         0 = free | 1 ..= 2^32-2 = references held | 2^32-1 = persistent
//! ```
//!
//! Two kinds of record, as Linux since 6.8:
//!
//! - **persistent** ([`StackDepot::save`], or [`StackDepot::save_flags`] without
//!   [`SaveFlags::GET`]): exactly `16 + 8n` bytes (16-aligned), never freed. Its count
//!   is saturated, so a later `GET` of the same stack takes no reference and a `put`
//!   of it is ignored. A save without `GET` that finds a refcounted record makes it
//!   persistent, so a handle from such a save is valid forever.
//! - **refcounted** (`GET`): the caller owns a reference and must [`StackDepot::put`]
//!   it. The last `put` unlinks the record from its hash chain and queues its slot on
//!   the freelist of its size class. Classes go by frame count rounded up to 4
//!   (`16 + 32k` bytes for `4k-3 ..= 4k` frames), so a 5-frame stack costs 80 bytes,
//!   not Linux's fixed 544-byte slot. A new record of the same class (of either
//!   kind) takes the oldest freed slot before any fresh pool space.
//!
//! Pools are never unmapped, so a reader may always *read* any record; the danger is
//! reading one that was freed and reused under it. Lookups never lock, and guard
//! against that with the refcount and the generation in `meta`:
//!
//! ```text
//!  reader (no lock)                           writer (under the spinlock)
//!  h = bucket.load(Acquire) ─────────────┐    reuse: fence(Release)
//!  m1 = meta.load(Acquire)               │           hash, frames, next  (Relaxed)
//!  hash, len(m1), frames match?          │           meta = gen+1 | len  (Release)
//!  c = count: 0 → skip (freed)           │           count = 1 or MAX   (Release)
//!     MAX → nothing to take              └────────── bucket = handle    (Release)
//!     n   → CAS n → n+1 (Acquire)  "inc_not_zero"
//!  m2 = meta.load(): m2 != m1 → the slot was reused since m1: drop the
//!                                reference (a normal put) and skip
//!  found: the reference pins this incarnation, whose stack is ours
//! ```
//!
//! A slot is reused only after its count reached 0, and a count of 0 is never
//! incremented (only a reuse sets it again, after bumping the generation), so a successful CAS pins whichever incarnation holds the slot; the
//! Acquire CAS synchronises with that incarnation's Release count store, so `m2` shows
//! its generation, and `m1 == m2` proves the compared frames were its frames (a reuse
//! bumps the generation). A reader that follows a stale `next` (its record was freed
//! and reused meanwhile) may walk into another chain or the freelist; it can then only
//! miss, never match wrongly. Misses, and walks longer than [`MAX_WALK`] steps, fall
//! back to a search under the spinlock, where chains are stable (links change only
//! under it). [`StackDepot::fetch_into`] copies a record seqlock-style (generation and
//! count checked before and after) for readers that may race with a final `put`.
//!
//! The hash table grows with the stacks stored: it starts at 2^12 buckets and, when
//! the stacks outnumber the buckets, the inserter (under the lock) maps a table four
//! times larger (up to 2^20 buckets), relinks every chained record into it and
//! publishes it. Old tables are never unmapped (a lock-free reader may still walk
//! one), and their bytes stay counted in the cap: all of them together are smaller
//! than the newest. A reader that walks an old table, or a chain being relinked,
//! may only miss (every record it reaches is a complete record, matched by hash,
//! frames and generation), and a miss is redone under the lock on the current table:
//!
//! ```text
//!  table:   | bits u32 | bucket[0] | ... | bucket[2^bits - 1] |     (each a raw handle)
//!  grow:    lock; new = map(4 x); for each chained record r: push r on new[r.hash];
//!           table = new (Release); unlock            old table: stays mapped
//! ```
//!
//! A `put` finds the record only through the handle, so bad handles are filtered: the
//! pool must be mapped and the start bitmap must mark the offset as a record start
//! (bits are set once and never cleared, since a slot keeps its class). A `put` of a
//! handle that is not a record, or whose count is already 0, is ignored and counted
//! in [`DepotStats::bad_puts`]. A stale handle whose slot was already reused cannot be
//! told from a valid one (Linux cannot either); the FIFO freelist makes that as
//! unlikely as it can.
#![allow(unsafe_code)]

use core::marker::PhantomData;
use core::ptr;
use core::sync::atomic::{fence, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering};

use crate::sync::SpinLock;

/// Bytes in one pool.
pub const POOL_SIZE: usize = 16 << 10;
const POOL_INDEX_BITS: u32 = 17;
const OFFSET_BITS: u32 = 10;
const EXTRA_BITS: u32 = 5;
const HANDLE_MASK: u32 = (1 << (POOL_INDEX_BITS + OFFSET_BITS)) - 1;
const RECORD_ALIGN: usize = 16;
const HEADER: usize = 16;
const FRAME: usize = core::mem::size_of::<usize>();
/// The start bitmap at the head of each pool: one bit per 16-byte unit.
const BITMAP_BYTES: usize = POOL_SIZE / RECORD_ALIGN / 8;
/// Offset of the first record in a pool.
const FIRST_OFFSET: usize = BITMAP_BYTES;
/// Most pools a depot can address.
pub const MAX_POOLS: usize = (1 << POOL_INDEX_BITS) - 1;
/// Most frames kept per stack.
pub const MAX_FRAMES: usize = 256;
/// Frames per size-class step of refcounted records.
const CLASS_FRAMES: usize = 4;
const CLASSES: usize = MAX_FRAMES / CLASS_FRAMES;
/// Buckets of the first table (16 KiB): a small program's stacks fit it.
const MIN_BUCKET_BITS: u32 = 12;
/// The largest table (2^20 buckets, 4 MiB, as Linux sizes its table for KASAN).
const MAX_BUCKET_BITS: u32 = 20;
/// Each growth multiplies the buckets by 2^GROW_BITS.
const GROW_BITS: u32 = 2;
/// Longest lock-free walk of a hash chain before the search is redone under the lock
/// (a reader hopping through reused records could otherwise go round for as long as
/// writers keep reusing them).
pub const MAX_WALK: usize = 4096;
const LEN_BITS: u32 = 9;
const LEN_MASK: u32 = (1 << LEN_BITS) - 1;
/// The count of a persistent record.
const PERSISTENT: u32 = u32::MAX;

/// A depot handle: 0 means "no stack".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Handle(pub u32);

impl Handle {
    /// The absent stack.
    pub const NONE: Handle = Handle(0);

    /// Whether a stack is named.
    pub fn is_some(self) -> bool {
        self.0 & HANDLE_MASK != 0
    }

    /// The handle with `bits` (5 bits) stored in its spare user bits.
    pub fn with_extra(self, bits: u32) -> Handle {
        let shift = POOL_INDEX_BITS + OFFSET_BITS;
        Handle((self.0 & HANDLE_MASK) | ((bits & ((1 << EXTRA_BITS) - 1)) << shift))
    }

    /// The spare user bits.
    pub fn extra(self) -> u32 {
        self.0 >> (POOL_INDEX_BITS + OFFSET_BITS)
    }

    /// The handle without its user bits, as the depot stores it.
    fn raw(self) -> u32 {
        self.0 & HANDLE_MASK
    }

    fn pool(self) -> usize {
        (self.0 & ((1 << POOL_INDEX_BITS) - 1)) as usize
    }

    fn offset(self) -> usize {
        ((self.0 >> POOL_INDEX_BITS) & ((1 << OFFSET_BITS) - 1)) as usize * RECORD_ALIGN
    }

    fn new(pool_plus_1: usize, offset: usize) -> Handle {
        Handle(pool_plus_1 as u32 | (((offset / RECORD_ALIGN) as u32) << POOL_INDEX_BITS))
    }
}

/// What a save may do (Linux's `STACK_DEPOT_FLAG_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SaveFlags(pub u32);

impl SaveFlags {
    /// Only find a stack, or store it in space the depot already has, without waiting
    /// for the insert lock (so a lookup racing with a table growth may miss).
    pub const NONE: SaveFlags = SaveFlags(0);
    /// May map a new pool (and wait for the insert lock).
    pub const CAN_ALLOC: SaveFlags = SaveFlags(1);
    /// Take a reference: the record becomes (or stays) refcounted and the caller must
    /// [`StackDepot::put`] the handle.
    pub const GET: SaveFlags = SaveFlags(2);

    /// Whether every flag of `other` is set.
    pub fn contains(self, other: SaveFlags) -> bool {
        self.0 & other.0 == other.0
    }
}

impl core::ops::BitOr for SaveFlags {
    type Output = SaveFlags;
    fn bitor(self, other: SaveFlags) -> SaveFlags {
        SaveFlags(self.0 | other.0)
    }
}

/// Where a depot's memory comes from.
pub trait PoolSource: Sync {
    /// Maps `bytes` of zeroed, writable memory that stays mapped for the process's
    /// life, or `None` if none can be had.
    fn map_pool(&self, bytes: usize) -> Option<*mut u8>;
}

/// Depot figures for `kasan.stats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DepotStats {
    /// Distinct stacks stored now (persistent and refcounted).
    pub stacks: usize,
    /// Bytes of memory the depot holds (table, pool index and pools); never shrinks.
    pub bytes: usize,
    /// Saves of a new stack that could not store it (cap reached, no room without
    /// `CAN_ALLOC`, or the insert lock busy without `CAN_ALLOC`).
    pub failed: usize,
    /// Refcounted records freed by their last `put`.
    pub evicted: usize,
    /// Refcounted records alive now.
    pub in_use: usize,
    /// Bytes of freed slots waiting on the freelists.
    pub freelist_bytes: usize,
    /// `put`s of a handle that names no live refcounted or persistent record (ignored).
    pub bad_puts: usize,
    /// Pools mapped.
    pub pools: usize,
}

/// State changed only under the insert lock.
struct Alloc {
    /// Pools mapped; the last one is the bump pool.
    pools: usize,
    /// Bump offset in the last pool.
    offset: usize,
    /// FIFO freelists by size class (index 1 ..= CLASSES), linked through `next`.
    free_head: [u32; CLASSES + 1],
    free_tail: [u32; CLASSES + 1],
}

/// The stack depot.
pub struct StackDepot {
    table: AtomicPtr<AtomicU32>,
    pools: [AtomicPtr<u8>; 1024],
    extra_pools: AtomicPtr<AtomicPtr<u8>>,
    alloc: SpinLock<Alloc>,
    cap: AtomicUsize,
    stacks: AtomicUsize,
    bytes: AtomicUsize,
    failed: AtomicUsize,
    evicted: AtomicUsize,
    in_use: AtomicUsize,
    freelist_bytes: AtomicUsize,
    bad_puts: AtomicUsize,
    pool_count: AtomicUsize,
}

impl core::fmt::Debug for StackDepot {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("StackDepot")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl Default for StackDepot {
    fn default() -> Self {
        Self::new()
    }
}

/// A 32-bit hash of the frames: multiply-xorshift over each word, in four independent
/// lanes (a single chain of multiplies was most of the cost of finding a stored stack),
/// folded and finished with murmur3's 64-bit mix.
fn hash(frames: &[usize]) -> u32 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mix = |lane: u64, word: usize| {
        let x = (lane ^ word as u64).wrapping_mul(K);
        x ^ (x >> 29)
    };
    let mut lanes = [
        0x9747_b28c ^ frames.len() as u64,
        K,
        K.rotate_left(17),
        K.rotate_left(41),
    ];
    let mut chunks = frames.chunks_exact(4);
    for chunk in &mut chunks {
        for (lane, &word) in lanes.iter_mut().zip(chunk) {
            *lane = mix(*lane, word);
        }
    }
    for (lane, &word) in lanes.iter_mut().zip(chunks.remainder()) {
        *lane = mix(*lane, word);
    }
    let mut h =
        lanes[0] ^ lanes[1].rotate_left(16) ^ lanes[2].rotate_left(32) ^ lanes[3].rotate_left(48);
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^= h >> 33;
    h as u32
}

/// Bytes of a table of 2^`bits` buckets, with its leading bits word.
fn table_bytes(bits: u32) -> usize {
    ((1usize << bits) + 1) * 4
}

/// The size class of a refcounted record of `frames` frames (1 ..= CLASSES).
fn class_of(frames: usize) -> usize {
    frames.div_ceil(CLASS_FRAMES)
}

/// Bytes of a slot of size class `class`.
fn class_size(class: usize) -> usize {
    (HEADER + class * CLASS_FRAMES * FRAME).next_multiple_of(RECORD_ALIGN)
}

/// Bytes of a persistent record of exactly `frames` frames.
fn exact_size(frames: usize) -> usize {
    (HEADER + frames * FRAME).next_multiple_of(RECORD_ALIGN)
}

fn meta_len(meta: u32) -> usize {
    (meta & LEN_MASK) as usize
}

/// One record's header fields and frames, all atomics: a lock-free reader may look at
/// a record while a writer reuses it.
#[derive(Clone, Copy)]
struct Rec<'a> {
    /// 16-aligned, with `room >= HEADER` bytes of a mapped pool from here.
    ptr: *const u8,
    room: usize,
    _depot: PhantomData<&'a StackDepot>,
}

impl<'a> Rec<'a> {
    fn word(&self, index: usize) -> &'a AtomicU32 {
        debug_assert!(index < HEADER / 4);
        // SAFETY: `ptr` is 16-aligned with at least HEADER bytes of a pool that stays
        // mapped for the depot's life (the `Rec` invariant); every access to the header
        // is atomic, so sharing it is sound.
        unsafe { &*(self.ptr.add(index * 4) as *const AtomicU32) }
    }
    /// The next record in the hash chain (or on the freelist), as a raw handle.
    fn next(&self) -> &'a AtomicU32 {
        self.word(0)
    }
    fn hash(&self) -> &'a AtomicU32 {
        self.word(1)
    }
    fn meta(&self) -> &'a AtomicU32 {
        self.word(2)
    }
    fn count(&self) -> &'a AtomicU32 {
        self.word(3)
    }
    /// The first `len` frame words, if they lie in the pool.
    fn frames(&self, len: usize) -> Option<&'a [AtomicUsize]> {
        if len > MAX_FRAMES || HEADER + len * FRAME > self.room {
            return None;
        }
        // SAFETY: the words lie in the pool (checked above) at a 16-aligned offset, the
        // pool is never unmapped, and every access through this slice is atomic.
        Some(unsafe {
            core::slice::from_raw_parts(self.ptr.add(HEADER) as *const AtomicUsize, len)
        })
    }
    /// Whether the record holds `frames` (its length already checked). Word by word with
    /// atomic loads: the record may be rewritten under a lock-free reader, and a slice
    /// `==` would become a call to `bcmp`, which a hosted runtime interposes.
    fn same_frames(&self, frames: &[usize]) -> bool {
        match self.frames(frames.len()) {
            // Relaxed: the caller validates what it read with the generation in `meta`.
            Some(words) => words
                .iter()
                .zip(frames)
                .all(|(w, &f)| w.load(Ordering::Relaxed) == f),
            None => false,
        }
    }
}

impl StackDepot {
    /// An empty depot with the default 128 MiB cap; it maps nothing until first used.
    pub const fn new() -> StackDepot {
        StackDepot {
            table: AtomicPtr::new(ptr::null_mut()),
            pools: [const { AtomicPtr::new(ptr::null_mut()) }; 1024],
            extra_pools: AtomicPtr::new(ptr::null_mut()),
            alloc: SpinLock::new(Alloc {
                pools: 0,
                offset: POOL_SIZE,
                free_head: [0; CLASSES + 1],
                free_tail: [0; CLASSES + 1],
            }),
            cap: AtomicUsize::new(128 << 20),
            stacks: AtomicUsize::new(0),
            bytes: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
            evicted: AtomicUsize::new(0),
            in_use: AtomicUsize::new(0),
            freelist_bytes: AtomicUsize::new(0),
            bad_puts: AtomicUsize::new(0),
            pool_count: AtomicUsize::new(0),
        }
    }

    /// Sets the cap on all the depot's memory (table, pool index and pools).
    pub fn set_cap(&self, bytes: usize) {
        self.cap.store(bytes, Ordering::Relaxed);
    }

    /// Takes the insert lock and keeps it (before `fork`).
    pub fn lock_all(&self) {
        core::mem::forget(self.alloc.lock());
    }

    /// Releases the lock taken by [`StackDepot::lock_all`].
    ///
    /// # Safety
    ///
    /// The caller must hold it through `lock_all`.
    pub unsafe fn unlock_all(&self) {
        // SAFETY: forwarded from the caller.
        unsafe { self.alloc.force_unlock() };
    }

    /// Current figures (each exact, together only roughly consistent while other
    /// threads save and put).
    pub fn stats(&self) -> DepotStats {
        // Relaxed throughout: statistics, ordered with nothing.
        DepotStats {
            stacks: self.stacks.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            evicted: self.evicted.load(Ordering::Relaxed),
            in_use: self.in_use.load(Ordering::Relaxed),
            freelist_bytes: self.freelist_bytes.load(Ordering::Relaxed),
            bad_puts: self.bad_puts.load(Ordering::Relaxed),
            pools: self.pool_count.load(Ordering::Relaxed),
        }
    }

    fn pool_slot(&self, index: usize) -> Option<&AtomicPtr<u8>> {
        if index < self.pools.len() {
            return Some(&self.pools[index]);
        }
        // Acquire pairs with the Release store that published the extra index array.
        let extra = self.extra_pools.load(Ordering::Acquire);
        if extra.is_null() || index >= MAX_POOLS {
            return None;
        }
        // SAFETY: the extra array holds `MAX_POOLS - 1024` slots, and is never freed.
        Some(unsafe { &*extra.add(index - self.pools.len()) })
    }

    fn pool_base(&self, handle: Handle) -> Option<*mut u8> {
        let pool = handle.pool();
        if pool == 0 {
            return None;
        }
        // Acquire pairs with the Release store that published the pool in `new_pool`.
        let base = self.pool_slot(pool - 1)?.load(Ordering::Acquire);
        (!base.is_null()).then_some(base)
    }

    /// The record slot a handle names, if its pool is mapped and its header fits. For
    /// handles read from the depot's own links, which are always record starts.
    fn record(&self, handle: Handle) -> Option<Rec<'_>> {
        let offset = handle.offset();
        if offset < FIRST_OFFSET || offset + HEADER > POOL_SIZE {
            return None;
        }
        let base = self.pool_base(handle)?;
        Some(Rec {
            // SAFETY: `offset + HEADER <= POOL_SIZE` (checked above), so the header lies
            // in the pool.
            ptr: unsafe { base.add(offset) },
            room: POOL_SIZE - offset,
            _depot: PhantomData,
        })
    }

    fn start_word(&self, handle: Handle) -> Option<(&AtomicU32, u32)> {
        let base = self.pool_base(handle)?;
        let unit = handle.offset() / RECORD_ALIGN;
        // SAFETY: the bitmap's BITMAP_BYTES / 4 words head every pool, `unit / 32` is
        // below that (offsets have OFFSET_BITS bits), and its words are only accessed
        // atomically.
        let word = unsafe { &*(base as *const AtomicU32).add(unit / 32) };
        Some((word, 1 << (unit % 32)))
    }

    /// The record a handle from outside names: as [`StackDepot::record`], and the start
    /// bitmap must mark the offset as a record start (so a handle into the middle of a
    /// record or into unused space names nothing).
    fn record_checked(&self, handle: Handle) -> Option<Rec<'_>> {
        let rec = self.record(handle)?;
        let (word, bit) = self.start_word(handle)?;
        // Acquire pairs with the Release `fetch_or` in `init_record`.
        (word.load(Ordering::Acquire) & bit != 0).then_some(rec)
    }

    /// The frames a handle names; empty for [`Handle::NONE`], a corrupt handle or a
    /// freed record.
    ///
    /// The handle must be held while the slice is used: persistent, or a reference the
    /// caller owns. Fetching a refcounted handle after its last `put` is a caller bug
    /// (Linux: "use after stack_depot_put()"): the slot may be rewritten under the
    /// slice. A reader that may race with the last `put` uses
    /// [`StackDepot::fetch_into`] instead.
    pub fn fetch(&self, handle: Handle) -> &[usize] {
        let Some(rec) = self.record_checked(handle) else {
            return &[];
        };
        // Acquire pairs with the Release count store in `init_record`: the record's
        // contents, written before it, are visible.
        if rec.count().load(Ordering::Acquire) == 0 {
            return &[];
        }
        // Relaxed: ordered after the Acquire above, and fixed while the record lives.
        let len = meta_len(rec.meta().load(Ordering::Relaxed));
        match rec.frames(len) {
            // SAFETY: the words lie in the pool (checked by `frames`) and, the handle
            // being held (the caller's promise above), nobody writes them while the
            // slice lives; reading them non-atomically then races with no write.
            Some(words) => unsafe {
                core::slice::from_raw_parts(words.as_ptr() as *const usize, words.len())
            },
            None => &[],
        }
    }

    /// Copies the frames a handle names into `out` (as many as fit) and returns how many
    /// were copied; 0 for a corrupt or freed handle, or when the record was freed or
    /// reused during the copy. Safe to call with a handle the caller does not hold.
    pub fn fetch_into(&self, handle: Handle, out: &mut [usize]) -> usize {
        let Some(rec) = self.record_checked(handle) else {
            return 0;
        };
        // Acquire pairs with the Release meta store in `init_record`.
        let m1 = rec.meta().load(Ordering::Acquire);
        // Acquire pairs with the Release count store in `init_record`.
        if rec.count().load(Ordering::Acquire) == 0 {
            return 0;
        }
        let Some(words) = rec.frames(meta_len(m1)) else {
            return 0;
        };
        let n = words.len().min(out.len());
        for (o, w) in out[..n].iter_mut().zip(words) {
            // Relaxed: validated by the generation check below.
            *o = w.load(Ordering::Relaxed);
        }
        // Pairs with the Release fence in `init_record`: if any word above came from a
        // reuse of the slot, the count store of 0 that freed it is visible below.
        fence(Ordering::Acquire);
        // Acquire pairs with the Release count store in `init_record`: if this is a
        // reuse's count, the reuse's meta is visible to the load after it.
        let live = rec.count().load(Ordering::Acquire) != 0;
        // Relaxed: ordered by the Acquire above.
        if !live || rec.meta().load(Ordering::Relaxed) != m1 {
            return 0;
        }
        n
    }

    fn bucket(&self, hash: u32) -> Option<&AtomicU32> {
        // Acquire pairs with the Release store that published the table.
        let table = self.table.load(Ordering::Acquire);
        if table.is_null() {
            return None;
        }
        // SAFETY: a published table starts with its bucket bits, written before the
        // Release store that published it and never changed; it is never unmapped.
        let bits = unsafe { &*table }.load(Ordering::Relaxed);
        let index = 1 + (hash as usize & ((1usize << bits) - 1));
        // SAFETY: the table holds `1 + 2^bits` words, so `index` is inside it.
        Some(unsafe { &*table.add(index) })
    }

    /// Bucket bits of the current table (0 before the first save).
    fn bucket_bits(&self) -> u32 {
        // Acquire pairs with the Release store that published the table.
        let table = self.table.load(Ordering::Acquire);
        if table.is_null() {
            return 0;
        }
        // SAFETY: as in `bucket`.
        unsafe { &*table }.load(Ordering::Relaxed)
    }

    /// Looks `frames` up in the chain from `head`, following at most `limit` links, and
    /// on a match takes a reference (`get`) or makes the record persistent (`!get`).
    fn find(
        &self,
        head: &AtomicU32,
        hash_value: u32,
        frames: &[usize],
        get: bool,
        limit: usize,
    ) -> Option<Handle> {
        // Acquire pairs with the Release stores that link records in (`init_record`)
        // and out (`free_record`): the record a link names is fully written.
        let mut handle = Handle(head.load(Ordering::Acquire));
        for _ in 0..limit {
            let rec = self.record(handle)?;
            // Acquire pairs with the Release meta store in `init_record`: the hash and
            // frames written before it are visible (or later writes, which `take`
            // detects by the generation).
            let meta = rec.meta().load(Ordering::Acquire);
            // Relaxed: validated by the generation, as the frames.
            if rec.hash().load(Ordering::Relaxed) == hash_value
                && meta_len(meta) == frames.len()
                && rec.same_frames(frames)
                && self.take(handle, rec, meta, get)
            {
                return Some(handle);
            }
            // Acquire: as for the head.
            handle = Handle(rec.next().load(Ordering::Acquire));
        }
        None
    }

    /// Pins the record whose header read `meta` when its frames matched: takes a
    /// reference ("inc_not_zero"), then checks the slot was not reused since. `!get`
    /// makes a refcounted record persistent.
    fn take(&self, handle: Handle, rec: Rec<'_>, meta: u32, get: bool) -> bool {
        let count = rec.count();
        // Acquire pairs with the Release count store in `init_record` (and the RMWs
        // after it, which continue its release sequence): the meta of the incarnation
        // whose count we see is visible to the check below.
        let mut c = count.load(Ordering::Acquire);
        let referenced = loop {
            if c == 0 {
                return false;
            }
            if c == PERSISTENT {
                break false;
            }
            // Acquire: as the load above. A count that reaches PERSISTENT saturates.
            match count.compare_exchange_weak(c, c + 1, Ordering::Acquire, Ordering::Acquire) {
                Ok(_) => {
                    if c + 1 == PERSISTENT {
                        // Relaxed: statistics.
                        self.in_use.fetch_sub(1, Ordering::Relaxed);
                    }
                    break true;
                }
                Err(now) => c = now,
            }
        };
        // Relaxed: ordered after the Acquire on the count above.
        if rec.meta().load(Ordering::Relaxed) != meta {
            // The slot was freed and reused after we read its frames: not our stack.
            // (Never under the insert lock, where no slot is reused, so this `put`
            // cannot wait for the lock its caller holds.)
            if referenced {
                self.put(handle);
            }
            return false;
        }
        if referenced && !get {
            self.make_persistent(rec);
        }
        true
    }

    /// Saturates the count of a record the caller holds a reference to.
    fn make_persistent(&self, rec: Rec<'_>) {
        let count = rec.count();
        // Relaxed: the caller's reference keeps the record alive, so no free depends on
        // this value; later `put`s see PERSISTENT by coherence.
        let mut c = count.load(Ordering::Relaxed);
        while c != PERSISTENT {
            // Relaxed: as above.
            match count.compare_exchange_weak(c, PERSISTENT, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => {
                    // Relaxed: statistics.
                    self.in_use.fetch_sub(1, Ordering::Relaxed);
                    return;
                }
                Err(now) => c = now,
            }
        }
    }

    /// Saves `frames` (at most [`MAX_FRAMES`] are kept) as a persistent record and
    /// returns their handle, or [`Handle::NONE`] if `frames` is empty or the stack
    /// cannot be stored. `can_alloc` false may still store into space the depot has,
    /// but maps no pool and never waits for the insert lock.
    pub fn save(&self, frames: &[usize], can_alloc: bool, pools: &dyn PoolSource) -> Handle {
        let flags = if can_alloc {
            SaveFlags::CAN_ALLOC
        } else {
            SaveFlags::NONE
        };
        self.save_flags(frames, flags, pools)
    }

    /// Saves `frames` (at most [`MAX_FRAMES`] are kept) and returns their handle, or
    /// [`Handle::NONE`] if `frames` is empty or the stack cannot be stored. With
    /// [`SaveFlags::GET`] the caller owns a reference and must [`StackDepot::put`] the
    /// handle (unless it is [`Handle::NONE`]); without it the record is persistent.
    /// Finding a stored stack never takes a lock.
    pub fn save_flags(&self, frames: &[usize], flags: SaveFlags, pools: &dyn PoolSource) -> Handle {
        let frames = &frames[..frames.len().min(MAX_FRAMES)];
        if frames.is_empty() {
            return Handle::NONE;
        }
        let h = hash(frames);
        let get = flags.contains(SaveFlags::GET);
        if let Some(found) = self
            .bucket(h)
            .and_then(|b| self.find(b, h, frames, get, MAX_WALK))
        {
            return found;
        }
        let handle = self.insert(h, frames, flags, pools);
        if !handle.is_some() {
            // Relaxed: statistics.
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
        handle
    }

    /// The slow path: under the insert lock, look again and store the stack if it is
    /// still missing.
    fn insert(&self, h: u32, frames: &[usize], flags: SaveFlags, pools: &dyn PoolSource) -> Handle {
        let can_alloc = flags.contains(SaveFlags::CAN_ALLOC);
        let get = flags.contains(SaveFlags::GET);
        let mut alloc = if can_alloc {
            // A save nested in this thread's own insert (a signal handler that
            // interrupted it) cannot wait for the lock it holds: "no stack".
            match self.alloc.lock_unless_held() {
                Some(guard) => guard,
                None => return Handle::NONE,
            }
        } else {
            match self.alloc.try_lock() {
                Some(guard) => guard,
                None => return Handle::NONE,
            }
        };
        // Relaxed: the table pointer changes only under the lock we hold.
        if self.table.load(Ordering::Relaxed).is_null() && (!can_alloc || !self.map_table(pools)) {
            return Handle::NONE;
        }
        let bucket = self.bucket(h).expect("table mapped above");
        // Look again: another thread may have added it while we waited for the lock, or
        // the lock-free walk missed it. Chains are stable under the lock.
        if let Some(found) = self.find(bucket, h, frames, get, usize::MAX) {
            return found;
        }
        let class = class_of(frames.len());
        let handle = match self.pop_free(&mut alloc, class) {
            Some(handle) => handle,
            None => {
                let size = if get {
                    class_size(class)
                } else {
                    exact_size(frames.len())
                };
                match self.bump(&mut alloc, size, can_alloc, pools) {
                    Some(handle) => handle,
                    None => return Handle::NONE,
                }
            }
        };
        self.init_record(handle, bucket, h, frames, if get { 1 } else { PERSISTENT });
        // Relaxed: statistics (and the growth test below, made under the lock).
        let stacks = self.stacks.fetch_add(1, Ordering::Relaxed) + 1;
        if get {
            // Relaxed: statistics.
            self.in_use.fetch_add(1, Ordering::Relaxed);
        }
        let bits = self.bucket_bits();
        if can_alloc && stacks > 1 << bits && bits < MAX_BUCKET_BITS {
            self.grow(bits + GROW_BITS, pools);
        }
        handle
    }

    /// Maps a table of 2^`bits` buckets, moves every chained record into it and
    /// publishes it. Called under the insert lock; does nothing if the cap leaves no
    /// room (the old table keeps serving, with longer chains).
    fn grow(&self, bits: u32, pools: &dyn PoolSource) {
        let Some(new) = self.map_table_of(bits, pools) else {
            return;
        };
        // Relaxed: the table pointer changes only under the lock we hold.
        let old = self.table.load(Ordering::Relaxed);
        // SAFETY: `old` is a published table (a save mapped one before any record was
        // stored): `1 + 2^old_bits` words, never unmapped.
        let old_bits = unsafe { &*old }.load(Ordering::Relaxed);
        for i in 0..1usize << old_bits {
            // SAFETY: `1 + i` is below `1 + 2^old_bits`.
            let head = unsafe { &*old.add(1 + i) };
            // Relaxed: links change only under the lock we hold.
            let mut h = Handle(head.load(Ordering::Relaxed));
            while let Some(rec) = self.record(h) {
                // Relaxed: as above; a dead record's header is fixed under the lock.
                let next = rec.next().load(Ordering::Relaxed);
                let hash_value = rec.hash().load(Ordering::Relaxed);
                let index = 1 + (hash_value as usize & ((1usize << bits) - 1));
                // SAFETY: `index` is below `1 + 2^bits`, the new table's size.
                let bucket = unsafe { &*new.add(index) };
                // Release pairs with the Acquire link loads in `find`: a reader of the
                // old chain that follows this link reaches a complete record (it was
                // published before; this keeps the pairing on the link it reads).
                rec.next()
                    .store(bucket.load(Ordering::Relaxed), Ordering::Release);
                // Relaxed: the new table is not published yet; the Release store of the
                // table below publishes its buckets.
                bucket.store(h.raw(), Ordering::Relaxed);
                h = Handle(next);
            }
        }
        // Release pairs with the Acquire in `bucket`: the new table's bits and links
        // are visible to whoever finds it.
        self.table.store(new, Ordering::Release);
    }

    /// Writes a record into a fresh or freed slot and links it at the head of `bucket`.
    /// Called under the insert lock.
    fn init_record(
        &self,
        handle: Handle,
        bucket: &AtomicU32,
        h: u32,
        frames: &[usize],
        count: u32,
    ) {
        let rec = self.record(handle).expect("slot in a mapped pool");
        let words = rec.frames(frames.len()).expect("slot sized for the frames");
        // Relaxed: meta is written only under the lock we hold.
        let generation = rec.meta().load(Ordering::Relaxed) >> LEN_BITS;
        let meta = ((generation + 1) << LEN_BITS) | frames.len() as u32;
        // Pairs with the Acquire fence in `fetch_into`: a reader that sees any store
        // below also sees the count of 0 this slot has had since it was freed.
        fence(Ordering::Release);
        // Relaxed: published by the Release stores of meta and count below.
        rec.hash().store(h, Ordering::Relaxed);
        for (w, &f) in words.iter().zip(frames) {
            // Relaxed: as above.
            w.store(f, Ordering::Relaxed);
        }
        // Relaxed: bucket links change only under the lock; published below.
        rec.next()
            .store(bucket.load(Ordering::Relaxed), Ordering::Relaxed);
        // Release pairs with the Acquire meta loads in `find` and `fetch_into`.
        rec.meta().store(meta, Ordering::Release);
        // Release pairs with the Acquire count loads and CAS in `take`, `fetch` and
        // `fetch_into`: whoever sees this count sees this incarnation's meta.
        rec.count().store(count, Ordering::Release);
        let (word, bit) = self.start_word(handle).expect("slot in a mapped pool");
        // Release pairs with the Acquire in `record_checked`.
        word.fetch_or(bit, Ordering::Release);
        // Release pairs with the Acquire loads in `find`: a reader that sees this head
        // sees the whole record.
        bucket.store(handle.raw(), Ordering::Release);
    }

    /// Drops a reference taken by a save with [`SaveFlags::GET`]; the last one frees the
    /// record. A persistent record and [`Handle::NONE`] ignore it; any other handle that
    /// names no live record is ignored and counted in [`DepotStats::bad_puts`]. The user
    /// bits are ignored.
    pub fn put(&self, handle: Handle) {
        let handle = Handle(handle.raw());
        if !handle.is_some() {
            // As Linux: a save that stored nothing returned NONE, and its put is a no-op.
            return;
        }
        let Some(rec) = self.record_checked(handle) else {
            // Relaxed: statistics.
            self.bad_puts.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let count = rec.count();
        // Relaxed: the CAS below decides.
        let mut c = count.load(Ordering::Relaxed);
        loop {
            if c == PERSISTENT {
                return;
            }
            if c == 0 {
                // Relaxed: statistics.
                self.bad_puts.fetch_add(1, Ordering::Relaxed);
                return;
            }
            // Release pairs with the Acquire fence below in whichever thread drops the
            // last reference: this holder's reads of the record happen before the slot
            // is reused.
            match count.compare_exchange_weak(c, c - 1, Ordering::Release, Ordering::Relaxed) {
                Ok(_) => break,
                Err(now) => c = now,
            }
        }
        if c != 1 {
            return;
        }
        // Pairs with the Release decrements of the other holders (as `Arc`'s drop).
        fence(Ordering::Acquire);
        self.free_record(handle, rec);
    }

    /// Unlinks a record whose count reached 0 and queues its slot on its class's
    /// freelist.
    fn free_record(&self, handle: Handle, rec: Rec<'_>) {
        let Some(mut alloc) = self.alloc.lock_unless_held() else {
            // Nested in this thread's own insert (a signal handler): the record stays
            // linked with count 0, which every lookup skips, and its slot is not
            // reused (a few bytes lost rather than a hang).
            return;
        };
        // Relaxed: a dead record's header is written only under the lock we hold.
        let h = rec.hash().load(Ordering::Relaxed);
        let len = meta_len(rec.meta().load(Ordering::Relaxed));
        if let Some(bucket) = self.bucket(h) {
            let mut link = bucket;
            loop {
                // Relaxed: links change only under the lock we hold.
                let cur = link.load(Ordering::Relaxed);
                if cur == handle.0 {
                    // Release pairs with the Acquire link loads in `find`: a reader that
                    // sees the successor here sees it fully written.
                    link.store(rec.next().load(Ordering::Relaxed), Ordering::Release);
                    break;
                }
                match self.record(Handle(cur)) {
                    Some(r) => link = r.next(),
                    None => break,
                }
            }
        }
        // The slot goes to the tail of its FIFO freelist: a reader still on it then
        // ends its walk (a miss, redone under the lock).
        let class = class_of(len.max(1));
        // Relaxed: freelist links are followed only by readers that validate what they
        // find (count 0 fails `take`), and under the lock.
        rec.next().store(0, Ordering::Relaxed);
        let tail = alloc.free_tail[class];
        match self.record(Handle(tail)) {
            // Release: a lock-free reader may follow it (see `find`).
            Some(t) => t.next().store(handle.0, Ordering::Release),
            None => alloc.free_head[class] = handle.0,
        }
        alloc.free_tail[class] = handle.0;
        // Relaxed: statistics.
        self.freelist_bytes
            .fetch_add(class_size(class), Ordering::Relaxed);
        self.stacks.fetch_sub(1, Ordering::Relaxed);
        self.in_use.fetch_sub(1, Ordering::Relaxed);
        self.evicted.fetch_add(1, Ordering::Relaxed);
    }

    /// The oldest freed slot of `class`, if any. Called under the insert lock.
    fn pop_free(&self, alloc: &mut Alloc, class: usize) -> Option<Handle> {
        let head = Handle(alloc.free_head[class]);
        let rec = self.record(head)?;
        // Relaxed: freelist links change only under the lock we hold.
        alloc.free_head[class] = rec.next().load(Ordering::Relaxed);
        if alloc.free_head[class] == 0 {
            alloc.free_tail[class] = 0;
        }
        // Relaxed: statistics.
        self.freelist_bytes
            .fetch_sub(class_size(class), Ordering::Relaxed);
        Some(head)
    }

    /// `size` bytes of fresh pool space, mapping a new pool if the current one is full
    /// and `can_alloc` allows. Called under the insert lock.
    fn bump(
        &self,
        alloc: &mut Alloc,
        size: usize,
        can_alloc: bool,
        pools: &dyn PoolSource,
    ) -> Option<Handle> {
        if alloc.offset + size > POOL_SIZE && (!can_alloc || !self.new_pool(alloc, pools)) {
            return None;
        }
        let handle = Handle::new(alloc.pools, alloc.offset);
        alloc.offset += size;
        Some(handle)
    }

    fn reserve(&self, bytes: usize) -> bool {
        // Relaxed: `bytes` changes only under the insert lock, which the caller holds.
        let used = self.bytes.load(Ordering::Relaxed);
        if used + bytes > self.cap.load(Ordering::Relaxed) {
            return false;
        }
        self.bytes.store(used + bytes, Ordering::Relaxed);
        true
    }

    fn map_table(&self, pools: &dyn PoolSource) -> bool {
        match self.map_table_of(MIN_BUCKET_BITS, pools) {
            Some(p) => {
                // Release pairs with the Acquire in `bucket`: the zeroed table and its
                // bits are visible.
                self.table.store(p, Ordering::Release);
                true
            }
            None => false,
        }
    }

    /// A zeroed, unpublished table of 2^`bits` buckets, its first word set to `bits`.
    fn map_table_of(&self, bits: u32, pools: &dyn PoolSource) -> Option<*mut AtomicU32> {
        let bytes = table_bytes(bits);
        if !self.reserve(bytes) {
            return None;
        }
        let p = pools.map_pool(bytes)? as *mut AtomicU32;
        // SAFETY: the pool source mapped `bytes` (at least one word) of writable
        // memory, which nobody else sees until the table is published.
        unsafe { &*p }.store(bits, Ordering::Relaxed);
        Some(p)
    }

    fn new_pool(&self, alloc: &mut Alloc, pools: &dyn PoolSource) -> bool {
        if alloc.pools >= MAX_POOLS {
            return false;
        }
        // Relaxed: the extra index is published only under the lock we hold.
        if alloc.pools == self.pools.len() && self.extra_pools.load(Ordering::Relaxed).is_null() {
            let bytes = (MAX_POOLS - self.pools.len()) * core::mem::size_of::<usize>();
            if !self.reserve(bytes) {
                return false;
            }
            let Some(p) = pools.map_pool(bytes) else {
                return false;
            };
            // Release pairs with the Acquire in `pool_slot`.
            self.extra_pools
                .store(p as *mut AtomicPtr<u8>, Ordering::Release);
        }
        if !self.reserve(POOL_SIZE) {
            return false;
        }
        let Some(pool) = pools.map_pool(POOL_SIZE) else {
            return false;
        };
        let slot = self.pool_slot(alloc.pools).expect("index below MAX_POOLS");
        // Release pairs with the Acquire in `pool_base`: the zeroed pool (bitmap and
        // records) is visible before any handle into it is.
        slot.store(pool, Ordering::Release);
        alloc.pools += 1;
        alloc.offset = FIRST_OFFSET;
        // Relaxed: statistics.
        self.pool_count.fetch_add(1, Ordering::Relaxed);
        true
    }
}

/// Slots in a [`SaveHints`].
pub const HINTS: usize = 256;

/// The handle last saved from each call site, for one thread (or CPU): a save of a
/// stack seen before compares it with the record its hint names, with no hashing of
/// the whole stack and no chain walk. The call site is the first three frames and the
/// depth; a hint is only a guess, checked as a chain entry is (length, every frame,
/// then `take` with its generation check), so a stale or overwritten one costs a miss,
/// never a wrong handle.
#[derive(Debug)]
pub struct SaveHints {
    slots: [AtomicU32; HINTS],
}

impl Default for SaveHints {
    fn default() -> Self {
        Self::new()
    }
}

impl SaveHints {
    /// No hints.
    pub const fn new() -> SaveHints {
        SaveHints {
            slots: [const { AtomicU32::new(0) }; HINTS],
        }
    }

    fn slot(&self, frames: &[usize]) -> &AtomicU32 {
        let word = |i: usize| frames.get(i).copied().unwrap_or(0) as u64;
        let key = word(0) ^ word(1).rotate_left(21) ^ word(2).rotate_left(42) ^ frames.len() as u64;
        let index = (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as usize;
        &self.slots[index % HINTS]
    }
}

impl StackDepot {
    /// [`StackDepot::save_flags`], first trying the handle `hints` holds for this call
    /// site, and leaving the handle found there for the next save. `hints` may be
    /// shared or reentered (a signal handler): a torn or stale hint is just a miss.
    pub fn save_hinted(
        &self,
        frames: &[usize],
        flags: SaveFlags,
        pools: &dyn PoolSource,
        hints: &SaveHints,
    ) -> Handle {
        let frames = &frames[..frames.len().min(MAX_FRAMES)];
        if frames.is_empty() {
            return Handle::NONE;
        }
        let slot = hints.slot(frames);
        // Relaxed: a guess; the record it names is validated below, its contents
        // ordered by the Acquire meta load and the count's Acquire in `take`.
        let hint = Handle(slot.load(Ordering::Relaxed));
        if let Some(rec) = self.record(hint) {
            // Acquire pairs with the Release meta store in `init_record`.
            let meta = rec.meta().load(Ordering::Acquire);
            if meta_len(meta) == frames.len()
                && rec.same_frames(frames)
                && self.take(hint, rec, meta, flags.contains(SaveFlags::GET))
            {
                return hint;
            }
        }
        let handle = self.save_flags(frames, flags, pools);
        if handle.is_some() {
            // Relaxed: a guess for this call site's next save (see above).
            slot.store(handle.raw(), Ordering::Relaxed);
        }
        handle
    }
}

/// Walks a frame-pointer chain starting at frame `fp`, storing return addresses into
/// `out` (after skipping the first `skip`) until the chain leaves `[fp, stack_end)`,
/// stops growing, or `out` is full. `read` reads one word (the platform decides how
/// safely).
pub fn walk_frames(
    mut fp: usize,
    stack_end: usize,
    mut skip: usize,
    out: &mut [usize],
    mut read: impl FnMut(usize) -> Option<usize>,
) -> usize {
    let mut n = 0;
    while n < out.len() && fp & 7 == 0 && fp != 0 && fp.saturating_add(16) <= stack_end {
        let (Some(next), Some(ret)) = (read(fp), read(fp + 8)) else {
            break;
        };
        if ret == 0 {
            break;
        }
        if skip > 0 {
            skip -= 1;
        } else {
            out[n] = ret;
            n += 1;
        }
        if next <= fp {
            break;
        }
        fp = next;
    }
    n
}

/// How to find the caller's frame from a return address, on x86-64: what a
/// function's call frame information says at that address, reduced to the two shapes
/// compilers emit for a call site (anything else ends the walk).
///
/// ```text
///  FramePointer:  CFA = rbp + 16, return address at CFA - 8, caller's rbp at CFA - 16
///  Cfa:           CFA = sp + sp_offset, return address at CFA - 8,
///                 caller's rbp at CFA - rbp_at (or unchanged when not saved)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnwindRule {
    /// A frame-pointer frame, or code without unwind information (try the chain).
    FramePointer,
    /// A frame without a frame pointer: the CFA is the stack pointer plus an offset.
    Cfa {
        /// CFA minus the stack pointer at the call (a multiple of 8, below 128 KiB).
        sp_offset: u32,
        /// Where the caller's rbp was saved, in bytes below the CFA (a multiple of 8,
        /// below 2 KiB), if the function saved it.
        rbp_at: Option<u32>,
    },
    /// The outermost frame, or a rule the walk does not follow: stop here.
    Stop,
}

const RULE_KIND_BITS: u32 = 2;
/// The packed [`UnwindRule::FramePointer`] (kind 1, no fields).
const RULE_FRAME_POINTER: u64 = 1;
const RULE_SP_BITS: u32 = 14;
const RULE_RBP_BITS: u32 = 8;
/// Bits of the pc kept in an entry (the rest is its slot index).
const RULE_KEY_SHIFT: u32 = 29;
/// The entry bit saying it sits in its address's second slot.
const RULE_SECOND: u64 = 1 << 28;
/// An entry's key and slot bit (above them: the rule, and spare bits kept zero).
const RULE_TAG: u64 = !(RULE_SECOND - 1);
/// Slots of the cache: an address's first slot is its low bits.
pub const UNWIND_SLOTS: usize = 4096;

impl UnwindRule {
    /// The rule packed into the low `RULE_KEY_SHIFT` bits (0 is never a packed rule).
    fn pack(self) -> Option<u64> {
        Some(match self {
            UnwindRule::FramePointer => RULE_FRAME_POINTER,
            UnwindRule::Stop => 3,
            UnwindRule::Cfa { sp_offset, rbp_at } => {
                let sp = sp_offset / 8;
                if sp_offset % 8 != 0 || sp >= 1 << RULE_SP_BITS {
                    return None;
                }
                let rbp = match rbp_at {
                    None => 0,
                    Some(at) if at % 8 == 0 && at / 8 < 1 << RULE_RBP_BITS => {
                        1 | (u64::from(at / 8) << 1)
                    }
                    Some(_) => return None,
                };
                2 | (u64::from(sp) << RULE_KIND_BITS) | (rbp << (RULE_KIND_BITS + RULE_SP_BITS))
            }
        })
    }

    #[inline]
    fn unpack(bits: u64) -> Option<UnwindRule> {
        let field = |shift: u32, width: u32| ((bits >> shift) & ((1 << width) - 1)) as u32;
        match bits & 3 {
            RULE_FRAME_POINTER => Some(UnwindRule::FramePointer),
            3 => Some(UnwindRule::Stop),
            2 => {
                let rbp = field(RULE_KIND_BITS + RULE_SP_BITS, RULE_RBP_BITS + 1);
                Some(UnwindRule::Cfa {
                    sp_offset: field(RULE_KIND_BITS, RULE_SP_BITS) * 8,
                    rbp_at: (rbp & 1 != 0).then_some((rbp >> 1) * 8),
                })
            }
            _ => None,
        }
    }
}

/// A fixed-size, lock-free cache of unwind rules by return address: the unwind tables
/// are read once per return address (by the platform, where it is safe to), and every
/// later walk through that address costs one load. Two slots per address: its first
/// is its low 12 bits, its second those bits mixed with a hash of the rest, and each
/// slot is one word holding the rest of the address, which of its slots it is, and
/// the rule, so a reader sees a whole entry or another one, never a torn pair. With
/// one slot, hot return addresses sharing their low 12 bits (about 11 pairs among 300
/// addresses) evicted each other on every walk: libyaml's driver spent 10% of its
/// time in the unwind tables in one build and none in another, by code layout alone.
/// Memory: 32 KiB, never allocated.
///
/// ```text
///  entry u64:  | pc >> 12 : 35 | second : 1 | spare : 3 | rbp_at/8 : 8 | rbp saved : 1 | sp_offset/8 : 14 | kind : 2 |
/// ```
#[derive(Debug)]
pub struct UnwindCache {
    slots: [AtomicU64; UNWIND_SLOTS],
}

impl Default for UnwindCache {
    fn default() -> Self {
        Self::new()
    }
}

impl UnwindCache {
    /// An empty cache.
    pub const fn new() -> UnwindCache {
        UnwindCache {
            slots: [const { AtomicU64::new(0) }; UNWIND_SLOTS],
        }
    }

    /// The two slots of `pc` and the key its entries carry there (`pc >> 12`, the
    /// second marked [`RULE_SECOND`]).
    #[inline(always)]
    fn slots(&self, pc: usize) -> [(&AtomicU64, u64); 2] {
        let key = (pc / UNWIND_SLOTS) as u64;
        let mix = (key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 52) as usize;
        [
            (&self.slots[pc % UNWIND_SLOTS], key << RULE_KEY_SHIFT),
            (
                &self.slots[(pc ^ mix) % UNWIND_SLOTS],
                key << RULE_KEY_SHIFT | RULE_SECOND,
            ),
        ]
    }

    /// The rule cached for `pc`, if any.
    #[inline]
    pub fn get(&self, pc: usize) -> Option<UnwindRule> {
        if pc >> 47 != 0 {
            return None;
        }
        for (slot, tag) in self.slots(pc) {
            // Relaxed: an entry is one word, self-contained (key and rule together);
            // it publishes no other memory, so it pairs with no store but its own.
            let e = slot.load(Ordering::Relaxed);
            if e & RULE_TAG == tag {
                return UnwindRule::unpack(e & (RULE_SECOND - 1));
            }
        }
        None
    }

    /// Whether `pc`'s cached rule is [`UnwindRule::FramePointer`]: one load and one
    /// comparison when it sits in its first slot, two of each otherwise (false when
    /// nothing is cached for it).
    #[inline]
    pub fn keeps_frame_pointer(&self, pc: usize) -> bool {
        let [(first, k1), (second, k2)] = self.slots(pc);
        // Relaxed: see `get`.
        pc >> 47 == 0
            && (first.load(Ordering::Relaxed) == k1 | RULE_FRAME_POINTER
                || second.load(Ordering::Relaxed) == k2 | RULE_FRAME_POINTER)
    }

    /// Caches `rule` for `pc`: in its first slot when that is free, holds `pc`
    /// already, or holds another address's second choice; otherwise in its second
    /// slot (replacing whatever was there). A rule that does not fit an entry, or an
    /// address above 2^47, is not cached.
    pub fn insert(&self, pc: usize, rule: UnwindRule) {
        let Some(bits) = rule.pack() else { return };
        if pc >> 47 != 0 {
            return;
        }
        let [(first, k1), (second, k2)] = self.slots(pc);
        // Relaxed: see `get`; a race between two inserts leaves one of them.
        let e = first.load(Ordering::Relaxed);
        if e == 0 || e & RULE_TAG == k1 || e & RULE_SECOND != 0 {
            first.store(k1 | bits, Ordering::Relaxed);
        } else {
            second.store(k2 | bits, Ordering::Relaxed);
        }
    }
}

/// Walks the stack from the frame at `fp` (a frame-pointer frame: saved rbp, then the
/// return address), storing return addresses into `out` (after skipping `skip`) and
/// following, for each return address, the rule `rule` gives for it: the frame-pointer
/// chain where the code keeps one, the stack pointer plus an offset where it does not.
/// Stops when the stack stops growing or leaves `[fp, stack_end)`, at a zero return
/// address, at a [`UnwindRule::Stop`], or when `out` is full. With every rule
/// `FramePointer` it is [`walk_frames`]. `read` reads one word (the platform decides
/// how safely). `keeps_fp` is the cheap question asked first: true only for return
/// addresses whose rule is known to be `FramePointer` (a cache hit); those frames take
/// the frame-pointer step without asking `rule`, which is asked for all others.
pub fn walk_unwind(
    fp: usize,
    stack_end: usize,
    mut skip: usize,
    out: &mut [usize],
    mut read: impl FnMut(usize) -> Option<usize>,
    mut keeps_fp: impl FnMut(usize) -> bool,
    mut rule: impl FnMut(usize) -> UnwindRule,
) -> usize {
    if fp & 7 != 0 || fp == 0 || fp.saturating_add(16) > stack_end {
        return 0;
    }
    let (Some(mut rbp), Some(mut pc)) = (read(fp), read(fp + 8)) else {
        return 0;
    };
    let mut sp = fp + 16;
    let mut n = 0;
    while n < out.len() && pc != 0 {
        if skip > 0 {
            skip -= 1;
        } else {
            out[n] = pc;
            n += 1;
        }
        if keeps_fp(pc) {
            // The `FramePointer` arm below and the common tail, in one step.
            if rbp & 7 != 0 || rbp.saturating_add(16) > stack_end || rbp + 16 <= sp {
                break;
            }
            let (Some(next), Some(ret)) = (read(rbp), read(rbp + 8)) else {
                break;
            };
            (pc, sp, rbp) = (ret, rbp + 16, next);
            continue;
        }
        let (cfa, caller_rbp) = match rule(pc) {
            UnwindRule::FramePointer => {
                if rbp & 7 != 0 || rbp.saturating_add(16) > stack_end {
                    break;
                }
                let Some(next) = read(rbp) else { break };
                (rbp + 16, next)
            }
            UnwindRule::Cfa { sp_offset, rbp_at } => {
                let cfa = sp.saturating_add(sp_offset as usize);
                if cfa > stack_end || cfa < 8 {
                    break;
                }
                let caller_rbp = match rbp_at {
                    Some(at) if (at as usize) <= cfa => match read(cfa - at as usize) {
                        Some(v) => v,
                        None => break,
                    },
                    Some(_) => break,
                    None => rbp,
                };
                (cfa, caller_rbp)
            }
            UnwindRule::Stop => break,
        };
        if cfa <= sp {
            break;
        }
        let Some(ret) = read(cfa - 8) else { break };
        (pc, sp, rbp) = (ret, cfa, caller_rbp);
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::collections::{BTreeMap, HashMap};
    use std::sync::atomic::AtomicBool;
    use std::sync::atomic::AtomicUsize as Counter;
    use std::sync::Arc;
    use std::vec::Vec;

    const GET: SaveFlags = SaveFlags(SaveFlags::CAN_ALLOC.0 | SaveFlags::GET.0);
    const KEEP: SaveFlags = SaveFlags::CAN_ALLOC;
    const TABLE: usize = ((1 << MIN_BUCKET_BITS) + 1) * 4;
    const BUCKETS: usize = 1 << 16;

    struct HeapPools(Counter);
    impl PoolSource for HeapPools {
        fn map_pool(&self, bytes: usize) -> Option<*mut u8> {
            self.0.fetch_add(1, Ordering::Relaxed);
            let v = std::vec![0u64; bytes / 8].leak();
            Some(v.as_mut_ptr() as *mut u8)
        }
    }

    fn pools() -> HeapPools {
        HeapPools(Counter::new(0))
    }

    /// xorshift64*: deterministic, no dependency.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    fn stack(id: usize, len: usize) -> Vec<usize> {
        (0..len).map(|j| 0x40_0000 + id * 0x1000 + j * 8).collect()
    }

    fn count_of(depot: &StackDepot, h: Handle) -> u32 {
        depot.record(h).unwrap().count().load(Ordering::Relaxed)
    }

    #[test]
    fn dedup_and_round_trip() {
        let depot = StackDepot::new();
        let pools = pools();
        // Without CAN_ALLOC an empty depot maps nothing.
        assert_eq!(depot.save(&[1, 2], false, &pools), Handle::NONE);
        assert_eq!(pools.0.load(Ordering::Relaxed), 0);
        let a = depot.save(&[1, 2, 3], true, &pools);
        let b = depot.save(&[1, 2, 4], true, &pools);
        assert!(a.is_some() && b.is_some() && a != b);
        assert_eq!(depot.save(&[1, 2, 3], true, &pools), a);
        assert_eq!(depot.save(&[1, 2, 3], false, &pools), a);
        // Without CAN_ALLOC a new stack still goes into the pool already mapped.
        let c = depot.save(&[9], false, &pools);
        assert!(c.is_some());
        assert_eq!(depot.fetch(c), &[9]);
        assert_eq!(depot.fetch(a), &[1, 2, 3]);
        assert_eq!(depot.fetch(b), &[1, 2, 4]);
        assert_eq!(depot.fetch(a.with_extra(0x1f)), &[1, 2, 3]);
        assert_eq!(a.with_extra(0x15).extra(), 0x15);
        assert_eq!(a.with_extra(0x15).with_extra(0).extra(), 0);
        assert_eq!(a.with_extra(0x15).with_extra(0), a);
        assert!(!Handle::NONE.with_extra(0x1f).is_some());
        assert_eq!(depot.fetch(Handle::NONE), &[] as &[usize]);
        assert_eq!(depot.fetch(Handle(0x7fff_fff0)), &[] as &[usize]);
        // A handle into the middle of a record names nothing.
        assert_eq!(
            depot.fetch(Handle(a.0 + (1 << POOL_INDEX_BITS))),
            &[] as &[usize]
        );
        let mut out = [0; 8];
        assert_eq!(depot.fetch_into(b.with_extra(3), &mut out), 3);
        assert_eq!(&out[..3], &[1, 2, 4]);
        assert_eq!(depot.fetch_into(b, &mut out[..2]), 2);
        assert_eq!(depot.fetch_into(Handle(0x7fff_fff0), &mut out), 0);
        // Longer stacks are cut at MAX_FRAMES.
        let long: Vec<usize> = (0..MAX_FRAMES + 10).collect();
        let l = depot.save(&long, true, &pools);
        assert_eq!(depot.fetch(l), &long[..MAX_FRAMES]);
        assert_eq!(depot.save(&[], true, &pools), Handle::NONE);
        let s = depot.stats();
        assert_eq!((s.stacks, s.in_use, s.evicted, s.failed), (4, 0, 0, 1));
        assert_eq!(s.pools, 1);
        assert_eq!(s.bytes, TABLE + POOL_SIZE);
    }

    #[test]
    fn refcount_get_twice_put_twice() {
        let depot = StackDepot::new();
        let pools = pools();
        let frames = stack(1, 7);
        let a = depot.save_flags(&frames, GET, &pools);
        assert_eq!(depot.save_flags(&frames, GET, &pools), a);
        assert_eq!(count_of(&depot, a), 2);
        assert_eq!(depot.stats().in_use, 1);
        depot.put(a.with_extra(7));
        assert_eq!(depot.fetch(a), &frames[..]);
        assert_eq!(depot.stats().evicted, 0);
        depot.put(a);
        assert_eq!(depot.fetch(a), &[] as &[usize]);
        let mut out = [0; 8];
        assert_eq!(depot.fetch_into(a, &mut out), 0);
        let s = depot.stats();
        assert_eq!((s.stacks, s.in_use, s.evicted, s.bad_puts), (0, 0, 1, 0));
        assert_eq!(s.freelist_bytes, class_size(2));
        // The freed record is out of its chain: a save without CAN_ALLOC or GET of the
        // same stack makes a new record (in the freed slot, same class).
        let b = depot.save(&frames, false, &pools);
        assert_eq!(b, a);
        assert_eq!(count_of(&depot, b), PERSISTENT);
        assert_eq!(depot.stats().freelist_bytes, 0);
        // A third put of the old handle now hits a persistent record: ignored.
        depot.put(a);
        assert_eq!(depot.fetch(b), &frames[..]);
    }

    #[test]
    fn freed_slots_are_reused_by_the_same_class_only() {
        let depot = StackDepot::new();
        let pools = pools();
        let a = depot.save_flags(&stack(1, 5), GET, &pools);
        let keep = depot.save_flags(&stack(2, 5), GET, &pools);
        depot.put(a);
        // 9 frames: class 3, not a's class 2.
        let c = depot.save_flags(&stack(3, 9), GET, &pools);
        assert_ne!(c, a);
        // 8 frames: class 2, takes a's slot.
        let d = depot.save_flags(&stack(4, 8), GET, &pools);
        assert_eq!(d, a);
        assert_eq!(depot.fetch(d), &stack(4, 8)[..]);
        // The generation changed, so a reader that saw the old record cannot match.
        assert_eq!(depot.fetch(keep), &stack(2, 5)[..]);
        assert_eq!(depot.stats().in_use, 3);
    }

    #[test]
    fn bytes_do_not_grow_over_save_put_cycles() {
        let depot = StackDepot::new();
        let pools = pools();
        let mut rng = Rng(7);
        let mut held = std::collections::VecDeque::new();
        for i in 0..50_000usize {
            let frames = stack(i, 5 + rng.below(36));
            let h = depot.save_flags(&frames, GET, &pools);
            assert_eq!(depot.fetch(h), &frames[..]);
            held.push_back(h);
            if held.len() > 8 {
                depot.put(held.pop_front().unwrap());
            }
        }
        let s = depot.stats();
        // 8 live records and the freed slots of their 9 classes fit in one pool.
        assert_eq!(s.bytes, TABLE + POOL_SIZE, "{s:?}");
        assert_eq!(s.evicted, 50_000 - 8);
        assert_eq!((s.stacks, s.in_use), (8, 8));
    }

    #[test]
    fn persistent_records_are_never_evicted() {
        let depot = StackDepot::new();
        let pools = pools();
        let frames = stack(1, 12);
        let p = depot.save_flags(&frames, KEEP, &pools);
        // A later GET takes no reference; puts are ignored.
        assert_eq!(depot.save_flags(&frames, GET, &pools), p);
        for _ in 0..5 {
            depot.put(p);
        }
        assert_eq!(depot.fetch(p), &frames[..]);
        // A refcounted record becomes persistent when saved without GET.
        let other = stack(2, 3);
        let r = depot.save_flags(&other, GET, &pools);
        assert_eq!(depot.stats().in_use, 1);
        assert_eq!(depot.save_flags(&other, SaveFlags::NONE, &pools), r);
        assert_eq!(depot.stats().in_use, 0);
        depot.put(r);
        depot.put(r);
        assert_eq!(depot.fetch(r), &other[..]);
        let s = depot.stats();
        assert_eq!((s.stacks, s.evicted, s.bad_puts), (2, 0, 0));
    }

    #[test]
    fn bad_puts_are_counted_and_change_nothing() {
        let depot = StackDepot::new();
        let pools = pools();
        let mut saved = Vec::new();
        for i in 0..200 {
            let frames = stack(i, 1 + i % 20);
            let flags = if i % 2 == 0 { GET } else { KEEP };
            saved.push((depot.save_flags(&frames, flags, &pools), frames));
        }
        let freed = depot.save_flags(&stack(999, 6), GET, &pools);
        depot.put(freed);
        let before = depot.stats();
        let mut bad = 0;
        depot.put(Handle::NONE); // not counted: a failed save's handle
        depot.put(Handle::NONE.with_extra(3));
        assert_eq!(depot.stats().bad_puts, before.bad_puts);
        depot.put(freed); // already freed
        depot.put(Handle(0x7fff_fff0)); // pool not mapped
        depot.put(Handle(1)); // offset 0: the start bitmap
        bad += 3;
        // Every 16-byte unit of the pools that is not a live record start.
        let starts: Vec<u32> = saved.iter().map(|(h, _)| h.0).collect();
        for pool in 1..=depot.stats().pools {
            for unit in 0..(POOL_SIZE / RECORD_ALIGN) {
                let h = Handle::new(pool, unit * RECORD_ALIGN);
                if !starts.contains(&h.0) {
                    depot.put(h);
                    bad += 1;
                }
            }
        }
        let after = depot.stats();
        assert_eq!(after.bad_puts - before.bad_puts, bad);
        assert_eq!((after.stacks, after.in_use), (before.stacks, before.in_use));
        for (h, frames) in &saved {
            assert_eq!(depot.fetch(*h), &frames[..]);
            assert_eq!(depot.save_flags(frames, SaveFlags::NONE, &pools), *h);
        }
    }

    #[test]
    fn many_stacks_fill_pools_then_the_cap_fails_cleanly() {
        let depot = StackDepot::new();
        let pools = pools();
        depot.set_cap(TABLE + 4 * POOL_SIZE);
        let mut saved = Vec::new();
        for i in 0..10_000usize {
            let frames: Vec<usize> = (0..10).map(|j| i * 100 + j).collect();
            let h = depot.save(&frames, true, &pools);
            if !h.is_some() {
                break;
            }
            saved.push((h, frames));
        }
        // 4 pools of 16 KiB (less the start bitmap) hold 4 * 169 ten-frame records.
        assert_eq!(saved.len(), 4 * ((POOL_SIZE - FIRST_OFFSET) / 96));
        assert!(depot.stats().failed >= 1);
        assert_eq!(depot.stats().bytes, TABLE + 4 * POOL_SIZE);
        for (h, frames) in &saved {
            assert_eq!(depot.fetch(*h), &frames[..]);
        }
        // Existing stacks are still found at the cap.
        assert_eq!(depot.save(&saved[3].1, true, &pools), saved[3].0);
    }

    #[test]
    fn at_the_cap_puts_make_room_again() {
        let depot = StackDepot::new();
        let pools = pools();
        depot.set_cap(TABLE + POOL_SIZE);
        let mut held = Vec::new();
        let mut i = 0;
        loop {
            let h = depot.save_flags(&stack(i, 7), GET, &pools);
            i += 1;
            if !h.is_some() {
                break;
            }
            held.push(h);
        }
        let n = held.len();
        assert_eq!(n, (POOL_SIZE - FIRST_OFFSET) / class_size(2));
        let failed = depot.stats().failed;
        assert_eq!(failed, 1);
        for h in held.drain(..) {
            depot.put(h);
        }
        assert_eq!(depot.stats().freelist_bytes, n * class_size(2));
        // New stacks of the same class fit again; another class does not.
        for j in 0..n {
            let frames = stack(10_000 + j, 5 + j % 4);
            let h = depot.save_flags(&frames, GET, &pools);
            assert!(h.is_some());
            assert_eq!(depot.fetch(h), &frames[..]);
        }
        assert!(!depot.save_flags(&stack(20_000, 7), GET, &pools).is_some());
        assert!(!depot.save_flags(&stack(20_001, 30), GET, &pools).is_some());
        assert_eq!(depot.stats().failed, failed + 2);
        assert_eq!(depot.stats().bytes, TABLE + POOL_SIZE);
    }

    #[test]
    fn threads_saving_the_same_and_different_stacks() {
        let depot = Arc::new(StackDepot::new());
        let pools = Arc::new(pools());
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let (depot, pools) = (depot.clone(), pools.clone());
                std::thread::spawn(move || {
                    let mut out = Vec::new();
                    for i in 0..2000usize {
                        let shared = [i, i + 1, i + 2];
                        let own = [t, i, 77];
                        out.push((depot.save(&shared, true, &*pools), shared.to_vec()));
                        out.push((depot.save(&own, true, &*pools), own.to_vec()));
                    }
                    out
                })
            })
            .collect();
        let results: Vec<_> = threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect();
        for (h, frames) in &results {
            assert_eq!(depot.fetch(*h), &frames[..]);
        }
        // Each shared stack was stored once despite four concurrent savers.
        assert_eq!(depot.stats().stacks, 2000 + 4 * 2000);
    }

    /// Six threads save (with and without GET) a small set of shared stacks, whose
    /// records are freed and made again all the time, and stacks of their own, and put
    /// what they took; every handle is checked while it is held.
    #[test]
    fn threads_saving_and_putting_at_once() {
        const THREADS: usize = 6;
        const OPS: usize = 30_000;
        const SHARED: usize = 96;
        const PINNED: usize = 8; // shared stacks that some saves make persistent
        let depot = Arc::new(StackDepot::new());
        let pools = Arc::new(pools());
        let shared: Arc<Vec<Vec<usize>>> =
            Arc::new((0..SHARED).map(|i| stack(i, 1 + (i * 7) % 48)).collect());
        let pinned: Arc<Vec<AtomicBool>> =
            Arc::new((0..PINNED).map(|_| AtomicBool::new(false)).collect());
        let threads: Vec<_> = (0..THREADS)
            .map(|t| {
                let (depot, pools) = (depot.clone(), pools.clone());
                let (shared, pinned) = (shared.clone(), pinned.clone());
                std::thread::spawn(move || {
                    let mut rng = Rng(0x1234_5678 + t as u64 * 7919);
                    let mut held: Vec<(Handle, Vec<usize>)> = Vec::new();
                    let mut out = [0usize; MAX_FRAMES];
                    let mut check = |h: Handle, frames: &[usize]| {
                        assert!(h.is_some());
                        assert_eq!(depot.fetch(h), frames);
                        assert_eq!(depot.fetch_into(h, &mut out), frames.len());
                        assert_eq!(&out[..frames.len()], frames);
                    };
                    for i in 0..OPS {
                        match rng.below(10) {
                            0..=4 => {
                                let frames = if rng.below(4) == 0 {
                                    stack(1_000_000 * (t + 1) + i, 1 + rng.below(64))
                                } else {
                                    shared[rng.below(SHARED)].clone()
                                };
                                let h = depot.save_flags(&frames, GET, &*pools);
                                check(h, &frames);
                                held.push((h, frames));
                            }
                            5 if t % 2 == 0 => {
                                let k = rng.below(PINNED);
                                pinned[k].store(true, Ordering::Relaxed);
                                let h = depot.save_flags(&shared[k], KEEP, &*pools);
                                check(h, &shared[k]);
                            }
                            _ => {
                                if !held.is_empty() {
                                    let (h, frames) = held.swap_remove(rng.below(held.len()));
                                    check(h, &frames);
                                    depot.put(h);
                                }
                            }
                        }
                        if held.len() > 48 {
                            let (h, frames) = held.swap_remove(0);
                            check(h, &frames);
                            depot.put(h);
                        }
                    }
                    for (h, frames) in held {
                        check(h, &frames);
                        depot.put(h);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let s = depot.stats();
        let persistent = pinned.iter().filter(|p| p.load(Ordering::Relaxed)).count();
        assert_eq!(s.in_use, 0, "{s:?}");
        assert_eq!(s.stacks, persistent, "{s:?}");
        assert_eq!(s.bad_puts, 0);
        assert!(s.evicted > 10_000, "{s:?}");
        // Memory stays bounded by the live set, not by the stacks ever saved.
        assert!(s.pools < 64, "{s:?}");
        for (k, frames) in shared.iter().enumerate().take(PINNED) {
            if pinned[k].load(Ordering::Relaxed) {
                let h = depot.save_flags(frames, SaveFlags::NONE, &*pools);
                assert_eq!(depot.fetch(h), &frames[..]);
            }
        }
    }

    /// Four threads save and at once put a few stacks of one size class, so records
    /// die and their slots are reused by other stacks all the time, under readers that
    /// are comparing them: the inc_not_zero and generation checks must turn every such
    /// race into a miss or a correct hit.
    #[test]
    fn threads_churning_one_size_class() {
        const THREADS: usize = 4;
        const OPS: usize = 200_000;
        let depot = Arc::new(StackDepot::new());
        let pools = Arc::new(pools());
        // Eight 4-frame stacks, alike but for the last frame: one class, so a freed slot
        // is reused by whichever is saved next.
        let stacks: Arc<Vec<Vec<usize>>> = Arc::new(
            (0..8)
                .map(|i| std::vec![0x1000, 0x2000, 0x3000, 0x4000 + i])
                .collect(),
        );
        let threads: Vec<_> = (0..THREADS)
            .map(|t| {
                let (depot, pools, stacks) = (depot.clone(), pools.clone(), stacks.clone());
                std::thread::spawn(move || {
                    let mut rng = Rng(99 + t as u64);
                    let mut out = [0usize; 8];
                    for _ in 0..OPS {
                        let frames = &stacks[rng.below(stacks.len())];
                        let h = depot.save_flags(frames, GET, &*pools);
                        assert_eq!(depot.fetch(h), &frames[..]);
                        assert_eq!(depot.fetch_into(h, &mut out), 4);
                        assert_eq!(&out[..4], &frames[..]);
                        depot.put(h);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let s = depot.stats();
        assert_eq!((s.stacks, s.in_use, s.bad_puts), (0, 0, 0), "{s:?}");
        assert_eq!(s.pools, 1);
    }

    /// The interleaving the generation guards against, step by step: a reader compares
    /// a record, the record is freed and its slot reused by another stack of the same
    /// class, then the reader takes its reference.
    #[test]
    fn a_reader_racing_with_reuse_takes_nothing() {
        let depot = StackDepot::new();
        let pools = pools();
        let x = stack(1, 6);
        let y = stack(2, 7);
        let hx = depot.save_flags(&x, GET, &pools);
        let rec = depot.record(hx).unwrap();
        // The reader has read meta and matched the frames of x ...
        let m1 = rec.meta().load(Ordering::Acquire);
        assert!(rec.same_frames(&x));
        // ... x dies and y takes its slot ...
        depot.put(hx);
        let hy = depot.save_flags(&y, GET, &pools);
        assert_eq!(hy, hx);
        // ... and the reader's inc_not_zero succeeds on y: the generation check must
        // refuse it and give the reference back.
        assert!(!depot.take(hx, rec, m1, true));
        assert!(!depot.take(hx, rec, m1, false));
        assert_eq!(count_of(&depot, hy), 1);
        assert_eq!(depot.stats().in_use, 1);
        // A reader that arrives while the slot is free fails on the count.
        depot.put(hy);
        let m2 = rec.meta().load(Ordering::Acquire);
        assert!(!depot.take(hy, rec, m2, true));
        assert_eq!(count_of(&depot, hy), 0);
        // A reader that compared y's frames and meta pins y.
        let hy2 = depot.save_flags(&y, GET, &pools);
        let m3 = rec.meta().load(Ordering::Acquire);
        assert!(depot.take(hy2, rec, m3, true));
        assert_eq!(count_of(&depot, hy2), 2);
        let s = depot.stats();
        assert_eq!((s.in_use, s.evicted, s.bad_puts), (1, 2, 0));
    }

    /// Similar stacks (sequential addresses, shared prefixes, permutations) spread over
    /// the buckets as a random function would (about 53k stacks in 64k buckets: a
    /// Poisson load with mean 0.8, so a largest bucket of about 7).
    #[test]
    fn hash_spreads_similar_stacks() {
        let mut stacks: Vec<Vec<usize>> = (0..BUCKETS / 2).map(|i| stack(i, 1 + i % 40)).collect();
        let base = stack(7, 30);
        for i in 0..BUCKETS / 4 {
            let mut s = base.clone();
            s[i % 30] ^= (i / 30 + 1) * 8; // one frame changed
            stacks.push(s);
        }
        for i in 0..BUCKETS / 4 {
            let mut s = base.clone();
            s.swap(i % 30, (i / 30) % 30); // two frames swapped, or a prefix
            s.truncate(1 + (i / 900) % 30);
            stacks.push(s);
        }
        stacks.sort();
        stacks.dedup();
        let mut load = std::vec![0u32; BUCKETS];
        let mut hashes: Vec<u32> = stacks.iter().map(|s| hash(s)).collect();
        for &h in &hashes {
            load[h as usize & (BUCKETS - 1)] += 1;
        }
        hashes.sort();
        hashes.dedup();
        let max = *load.iter().max().unwrap();
        assert!(max <= 12, "max bucket load {max}");
        assert!(
            stacks.len() - hashes.len() <= 4,
            "{} collisions",
            stacks.len() - hashes.len()
        );
    }

    /// Random save / save(GET) / put / fetch sequences, compared after every step with
    /// a model: a map from stack to (handle, refcount or persistent).
    #[test]
    fn randomized_against_a_model() {
        // Stacks whose hashes share buckets, so records sit in the middle of chains
        // when they are unlinked.
        let mut by_bucket: BTreeMap<usize, Vec<Vec<usize>>> = BTreeMap::new();
        for i in 0..200_000usize {
            let frames = stack(i, 1 + i % 37);
            by_bucket
                .entry(hash(&frames) as usize & ((1 << MIN_BUCKET_BITS) - 1))
                .or_default()
                .push(frames);
        }
        let mut universe: Vec<Vec<usize>> = by_bucket
            .into_values()
            .filter(|v| v.len() >= 3)
            .flatten()
            .take(300)
            .collect();
        universe.extend((0..300).map(|i| stack(500_000 + i, 1 + i % 70)));
        assert_eq!(universe.len(), 600);

        #[derive(Clone, Copy, PartialEq, Debug)]
        enum Count {
            Refs(u32),
            Persistent,
        }
        let depot = StackDepot::new();
        let pools = pools();
        let mut rng = Rng(42);
        let mut live: HashMap<Vec<usize>, (Handle, Count)> = HashMap::new();
        let mut by_handle: HashMap<u32, Vec<usize>> = HashMap::new();
        let mut seen: Vec<Handle> = Vec::new();
        let (mut evicted, mut bad) = (0, 0);
        for step in 0..60_000 {
            match rng.below(10) {
                0..=3 => {
                    let frames = &universe[rng.below(universe.len())];
                    let get = rng.below(8) != 0;
                    let flags = if get { GET } else { KEEP };
                    let h = depot.save_flags(frames, flags, &pools);
                    assert!(h.is_some());
                    match live.get_mut(frames) {
                        Some((known, count)) => {
                            assert_eq!(h, *known, "step {step}: dedup");
                            if let Count::Refs(n) = count {
                                *count = if get {
                                    Count::Refs(*n + 1)
                                } else {
                                    Count::Persistent
                                };
                            }
                        }
                        None => {
                            assert!(
                                !by_handle.contains_key(&h.0),
                                "step {step}: handle reused live"
                            );
                            let count = if get {
                                Count::Refs(1)
                            } else {
                                Count::Persistent
                            };
                            live.insert(frames.clone(), (h, count));
                            by_handle.insert(h.0, frames.clone());
                            seen.push(h);
                        }
                    }
                }
                4..=7 => {
                    // A put of a live handle, an old (maybe freed, maybe reused) one,
                    // or a made-up one in a mapped pool.
                    let h = match rng.below(4) {
                        0 | 1 if !by_handle.is_empty() => {
                            let keys: Vec<u32> = by_handle.keys().copied().collect();
                            Handle(keys[rng.below(keys.len())])
                        }
                        2 if !seen.is_empty() => seen[rng.below(seen.len())],
                        _ => Handle::new(
                            1 + rng.below(depot.stats().pools.max(1)),
                            rng.below(POOL_SIZE / RECORD_ALIGN) * RECORD_ALIGN,
                        ),
                    };
                    depot.put(h.with_extra(rng.below(32) as u32));
                    match by_handle.get(&h.0).cloned() {
                        Some(frames) => {
                            let entry = live.get_mut(&frames).unwrap();
                            match entry.1 {
                                Count::Persistent => {}
                                Count::Refs(1) => {
                                    live.remove(&frames);
                                    by_handle.remove(&h.0);
                                    evicted += 1;
                                }
                                Count::Refs(n) => entry.1 = Count::Refs(n - 1),
                            }
                        }
                        None => bad += 1,
                    }
                }
                _ => {
                    let h = if seen.is_empty() || rng.below(2) == 0 {
                        Handle::new(1, rng.below(POOL_SIZE / RECORD_ALIGN) * RECORD_ALIGN)
                    } else {
                        seen[rng.below(seen.len())]
                    };
                    let want: &[usize] = by_handle.get(&h.0).map_or(&[], |f| &f[..]);
                    assert_eq!(depot.fetch(h), want, "step {step}: fetch");
                }
            }
            let s = depot.stats();
            let refcounted = live
                .values()
                .filter(|(_, c)| *c != Count::Persistent)
                .count();
            assert_eq!(
                (s.stacks, s.in_use, s.evicted, s.bad_puts),
                (live.len(), refcounted, evicted, bad),
                "step {step}"
            );
            for (frames, (h, count)) in &live {
                let want = match count {
                    Count::Refs(n) => *n,
                    Count::Persistent => PERSISTENT,
                };
                assert_eq!(count_of(&depot, *h), want, "step {step}");
                if step % 500 == 0 {
                    assert_eq!(depot.fetch(*h), &frames[..], "step {step}");
                }
            }
        }
        assert!(evicted > 1000 && bad > 1000, "{evicted} {bad}");
    }

    /// The table grows as stacks are stored (4x each time, from 2^12 buckets), every
    /// stack stays found through each growth, the old tables' bytes stay counted, and
    /// chains stay short.
    #[test]
    fn the_table_grows_with_the_stacks() {
        let depot = StackDepot::new();
        let pools = pools();
        let mut saved = Vec::new();
        for i in 0..70_000usize {
            let frames = stack(i, 1 + i % 9);
            let h = depot.save(&frames, true, &pools);
            saved.push((h, frames));
            if i + 1 == 1 << MIN_BUCKET_BITS {
                assert_eq!(depot.bucket_bits(), MIN_BUCKET_BITS);
            }
        }
        assert_eq!(depot.bucket_bits(), 18);
        let tables: usize = [12, 14, 16, 18].iter().map(|&b| table_bytes(b)).sum();
        let s = depot.stats();
        assert_eq!(s.bytes, tables + s.pools * POOL_SIZE);
        for (h, frames) in &saved {
            assert_eq!(depot.fetch(*h), &frames[..]);
            assert_eq!(depot.save(frames, false, &pools), *h);
        }
        // Chains in the grown table: 70k stacks in 256k buckets.
        let longest = (0..1u32 << 18)
            .map(|b| {
                let mut n = 0;
                let mut h = Handle(depot.bucket(b).unwrap().load(Ordering::Relaxed));
                while let Some(rec) = depot.record(h) {
                    n += 1;
                    h = Handle(rec.next().load(Ordering::Relaxed));
                }
                n
            })
            .max()
            .unwrap();
        assert!(longest <= 8, "longest chain {longest}");
    }

    /// A cap too small for a bigger table leaves the first one serving.
    #[test]
    fn the_cap_stops_growth_not_saves() {
        let depot = StackDepot::new();
        let pools = pools();
        depot.set_cap(table_bytes(MIN_BUCKET_BITS) + 13 * POOL_SIZE);
        let saved: Vec<_> = (0..6000usize)
            .map(|i| (depot.save(&stack(i, 2), true, &pools), stack(i, 2)))
            .collect();
        assert_eq!(depot.bucket_bits(), MIN_BUCKET_BITS);
        for (h, frames) in &saved {
            assert!(h.is_some());
            assert_eq!(depot.save(frames, false, &pools), *h);
        }
    }

    /// Threads insert new stacks (forcing growths), look up stacks others stored, and
    /// save(GET)/put refcounted ones (records freed and slots reused while the table
    /// is relinked): every handle must name its stack, every lookup of a stored stack
    /// must find the one handle.
    #[test]
    fn threads_insert_and_look_up_while_the_table_grows() {
        const THREADS: usize = 4;
        const PER: usize = 25_000;
        let depot = Arc::new(StackDepot::new());
        let pools = Arc::new(pools());
        let first: Arc<Vec<Vec<usize>>> =
            Arc::new((0..2000).map(|i| stack(i, 3 + i % 20)).collect());
        let handles: Arc<Vec<Handle>> =
            Arc::new(first.iter().map(|f| depot.save(f, true, &*pools)).collect());
        let threads: Vec<_> = (0..THREADS)
            .map(|t| {
                let (depot, pools) = (depot.clone(), pools.clone());
                let (first, handles) = (first.clone(), handles.clone());
                std::thread::spawn(move || {
                    let mut rng = Rng(5 + t as u64);
                    let mut mine = Vec::new();
                    for i in 0..PER {
                        let frames = stack(10_000 + t * PER + i, 1 + i % 30);
                        let h = depot.save(&frames, true, &*pools);
                        assert_eq!(depot.fetch(h), &frames[..]);
                        mine.push((h, frames));
                        // A save that may not wait for the lock may miss while another
                        // thread relinks the table (NONE), never find a wrong record; one
                        // that may wait finds the one handle.
                        let k = rng.below(first.len());
                        let got = depot.save(&first[k], false, &*pools);
                        assert!(got == handles[k] || got == Handle::NONE, "{got:?}");
                        assert_eq!(depot.save(&first[k], true, &*pools), handles[k]);
                        let (h, frames) = &mine[rng.below(mine.len())];
                        let got = depot.save(frames, false, &*pools);
                        assert!(got == *h || got == Handle::NONE, "{got:?}");
                        assert_eq!(depot.save(frames, true, &*pools), *h);
                        let churn = stack(900_000 + t * 10 + rng.below(10), 6);
                        let g = depot.save_flags(&churn, GET, &*pools);
                        assert_eq!(depot.fetch(g), &churn[..]);
                        depot.put(g);
                    }
                    mine
                })
            })
            .collect();
        let all: Vec<_> = threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect();
        assert!(depot.bucket_bits() >= 16, "{}", depot.bucket_bits());
        for (h, frames) in &all {
            assert_eq!(depot.save(frames, false, &*pools), *h);
        }
        let s = depot.stats();
        assert_eq!(s.stacks, 2000 + THREADS * PER, "{s:?}");
        assert!(s.failed < 1000, "{s:?}");
        assert_eq!((s.in_use, s.bad_puts), (0, 0), "{s:?}");
        assert!(s.evicted > 1000, "{s:?}");
    }

    /// A hinted save returns what a plain save would, leaves the handle in its slot,
    /// takes references as a save does, and survives its record being freed and the
    /// slot reused by another stack.
    #[test]
    fn hinted_saves_find_the_stack_and_survive_reuse() {
        let depot = StackDepot::new();
        let pools = pools();
        let hints = SaveHints::new();
        let a = stack(1, 6);
        let ha = depot.save_hinted(&a, KEEP, &pools, &hints);
        assert_eq!(hints.slot(&a).load(Ordering::Relaxed), ha.0);
        assert_eq!(depot.save_hinted(&a, KEEP, &pools, &hints), ha);
        assert_eq!(depot.save(&a, false, &pools), ha);
        // A stack sharing the first three frames and the depth (the same slot) but
        // not the rest: the hint does not match, the right handle comes back.
        let mut b = a.clone();
        b[5] = 0xdead;
        assert!(core::ptr::eq(hints.slot(&a), hints.slot(&b)));
        let hb = depot.save_hinted(&b, KEEP, &pools, &hints);
        assert_ne!(hb, ha);
        assert_eq!(depot.fetch(hb), &b[..]);
        assert_eq!(depot.save_hinted(&a, KEEP, &pools, &hints), ha);
        // Refcounted: a hit takes a reference.
        let c = stack(2, 7);
        let hc = depot.save_hinted(&c, GET, &pools, &hints);
        assert_eq!(depot.save_hinted(&c, GET, &pools, &hints), hc);
        assert_eq!(count_of(&depot, hc), 2);
        depot.put(hc);
        depot.put(hc);
        // c's slot is reused by d (same class); the hint for c now names d's record.
        let d = stack(3, 8);
        let hd = depot.save_flags(&d, GET, &pools);
        assert_eq!(hd, hc);
        let hc2 = depot.save_hinted(&c, GET, &pools, &hints);
        assert_ne!(hc2, hd);
        assert_eq!(depot.fetch(hc2), &c[..]);
        assert_eq!(depot.fetch(hd), &d[..]);
        assert_eq!((count_of(&depot, hd), count_of(&depot, hc2)), (1, 1));
        let s = depot.stats();
        assert_eq!((s.stacks, s.in_use, s.bad_puts), (4, 2, 0), "{s:?}");
    }

    /// Threads share one hint table over a churning refcounted set (the worst case:
    /// hints overwritten and records reused under them): every handle is right.
    #[test]
    fn shared_hints_under_churn() {
        let depot = Arc::new(StackDepot::new());
        let pools = Arc::new(pools());
        let hints = Arc::new(SaveHints::new());
        let stacks: Arc<Vec<Vec<usize>>> = Arc::new(
            (0..16)
                .map(|i| std::vec![0x1000, 0x2000, 0x3000, 0x4000 + i])
                .collect(),
        );
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let (depot, pools, hints, stacks) =
                    (depot.clone(), pools.clone(), hints.clone(), stacks.clone());
                std::thread::spawn(move || {
                    let mut rng = Rng(77 + t);
                    for _ in 0..100_000 {
                        let frames = &stacks[rng.below(stacks.len())];
                        let h = depot.save_hinted(frames, GET, &*pools, &hints);
                        assert_eq!(depot.fetch(h), &frames[..]);
                        depot.put(h);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let s = depot.stats();
        assert_eq!((s.stacks, s.in_use, s.bad_puts), (0, 0, 0), "{s:?}");
    }

    #[test]
    fn unwind_cache_round_trips_and_replaces() {
        let cache = UnwindCache::new();
        let rules = [
            UnwindRule::FramePointer,
            UnwindRule::Stop,
            UnwindRule::Cfa {
                sp_offset: 8,
                rbp_at: None,
            },
            UnwindRule::Cfa {
                sp_offset: 0x1_fff8,
                rbp_at: Some(16),
            },
            UnwindRule::Cfa {
                sp_offset: 56,
                rbp_at: Some(2040),
            },
        ];
        for (i, &r) in rules.iter().enumerate() {
            let pc = 0x5555_0000_1234 + i * 0x10_0000;
            assert_eq!(cache.get(pc), None);
            cache.insert(pc, r);
            assert_eq!(cache.get(pc), Some(r), "{r:?}");
            // Same slot, other address: not this rule.
            assert_eq!(cache.get(pc + UNWIND_SLOTS), None);
        }
        // Addresses sharing their first slot: the second goes to its second slot, and
        // both stay cached; a third takes its own second slot too.
        let pc = 0x7f00_0000_0abc;
        cache.insert(pc, UnwindRule::Stop);
        cache.insert(pc + 7 * UNWIND_SLOTS, UnwindRule::FramePointer);
        cache.insert(pc + 9 * UNWIND_SLOTS, UnwindRule::Stop);
        assert_eq!(cache.get(pc), Some(UnwindRule::Stop));
        assert_eq!(
            cache.get(pc + 7 * UNWIND_SLOTS),
            Some(UnwindRule::FramePointer)
        );
        assert!(cache.keeps_frame_pointer(pc + 7 * UNWIND_SLOTS));
        assert!(!cache.keeps_frame_pointer(pc));
        assert_eq!(cache.get(pc + 9 * UNWIND_SLOTS), Some(UnwindRule::Stop));
        // Re-inserting replaces the address's own entry.
        cache.insert(pc, UnwindRule::FramePointer);
        assert_eq!(cache.get(pc), Some(UnwindRule::FramePointer));
        assert!(cache.keeps_frame_pointer(pc));
        // Rules that do not fit, and addresses above 2^47, are not cached.
        for r in [
            UnwindRule::Cfa {
                sp_offset: 12,
                rbp_at: None,
            },
            UnwindRule::Cfa {
                sp_offset: 1 << 17,
                rbp_at: None,
            },
            UnwindRule::Cfa {
                sp_offset: 8,
                rbp_at: Some(2048),
            },
        ] {
            cache.insert(0x1000_0040, r);
            assert_eq!(cache.get(0x1000_0040), None, "{r:?}");
        }
        cache.insert(1 << 47, UnwindRule::Stop);
        assert_eq!(cache.get(1 << 47), None);
    }

    /// Threads write different rules for addresses sharing slots while others read:
    /// a reader sees the rule of its own address or nothing, never another's.
    #[test]
    fn unwind_cache_readers_never_see_another_address_rule() {
        let cache = Arc::new(UnwindCache::new());
        let rule_of = |pc: usize| UnwindRule::Cfa {
            sp_offset: ((pc / UNWIND_SLOTS) % 1000) as u32 * 8,
            rbp_at: Some(((pc / UNWIND_SLOTS) % 200) as u32 * 8),
        };
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let cache = cache.clone();
                std::thread::spawn(move || {
                    let mut rng = Rng(11 + t);
                    let mut hits = 0;
                    for _ in 0..300_000 {
                        let pc = 0x40_0000 + rng.below(64) * UNWIND_SLOTS + rng.below(8) * 8;
                        if rng.below(2) == 0 {
                            cache.insert(pc, rule_of(pc));
                        } else if let Some(r) = cache.get(pc) {
                            assert_eq!(r, rule_of(pc));
                            hits += 1;
                        }
                    }
                    hits
                })
            })
            .collect();
        let hits: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
        assert!(hits > 0);
    }

    /// A stack of frame-pointer frames and frames without one (the CFA from the stack
    /// pointer, rbp saved or left alone), walked by the rules; the frame-pointer walk
    /// alone loses the frameless function's caller.
    #[test]
    fn unwind_walk_crosses_frames_without_frame_pointers() {
        // 0x1000: entry frame (rbp chain): [0x1000] = garbage rbp 0x77 (the frameless
        // caller used rbp for data), [0x1008] = 0xa01 (return into frameless A).
        // A: CFA = sp + 0x28, saves rbp at CFA - 16: sp = 0x1010, CFA = 0x1038,
        //    [0x1028] = 0x1100 (caller's rbp), [0x1030] = 0xb01 (return into B).
        // B: a frame-pointer frame at 0x1100: [0x1100] = 0x1200, [0x1108] = 0xc01.
        // C (0xc01): frameless, rbp not saved: CFA = sp + 0x18 = 0x1110 + 0x18.
        //    [0x1120] = 0xd01; D (0xd01): frame-pointer, rbp still 0x1200.
        // 0x1200: [0x1200] = 0, [0x1208] = 0xe01; E: Stop.
        let mem = |a: usize| match a {
            0x1000 => Some(0x77),
            0x1008 => Some(0xa01),
            0x1028 => Some(0x1100),
            0x1030 => Some(0xb01),
            0x1100 => Some(0x1200),
            0x1108 => Some(0xc01),
            0x1120 => Some(0xd01),
            0x1200 => Some(0),
            0x1208 => Some(0xe01),
            a if (0x1000..0x2000).contains(&a) => Some(0x5a5a),
            _ => None,
        };
        let rule = |pc: usize| match pc {
            0xa01 => UnwindRule::Cfa {
                sp_offset: 0x28,
                rbp_at: Some(16),
            },
            0xc01 => UnwindRule::Cfa {
                sp_offset: 0x18,
                rbp_at: None,
            },
            0xe01 => UnwindRule::Stop,
            _ => UnwindRule::FramePointer,
        };
        let no = |_: usize| false;
        let mut out = [0; 16];
        let n = walk_unwind(0x1000, 0x2000, 0, &mut out, mem, no, rule);
        // The same walk with the fast question answered for every FramePointer pc.
        let mut fast = [0; 16];
        let fp_rule = |pc: usize| rule(pc) == UnwindRule::FramePointer;
        let m = walk_unwind(0x1000, 0x2000, 0, &mut fast, mem, fp_rule, rule);
        assert_eq!(&fast[..m], &out[..n]);
        assert_eq!(&out[..n], &[0xa01, 0xb01, 0xc01, 0xd01, 0xe01]);
        assert_eq!(walk_unwind(0x1000, 0x2000, 2, &mut out, mem, no, rule), 3);
        assert_eq!(&out[..3], &[0xc01, 0xd01, 0xe01]);
        assert_eq!(
            walk_unwind(0x1000, 0x2000, 0, &mut out[..2], mem, no, rule),
            2
        );
        // The stack ends below B's frame: the walk stops at the bound.
        assert_eq!(walk_unwind(0x1000, 0x1100, 0, &mut out, mem, no, rule), 2);
        // The frame-pointer walk reads A's garbage rbp and stops after one frame.
        assert_eq!(walk_frames(0x1000, 0x2000, 0, &mut out, mem), 1);
        // A rule pointing the CFA backwards (sp_offset 0) ends the walk.
        let back = |pc: usize| match pc {
            0xa01 => UnwindRule::Cfa {
                sp_offset: 0,
                rbp_at: None,
            },
            _ => UnwindRule::FramePointer,
        };
        assert_eq!(walk_unwind(0x1000, 0x2000, 0, &mut out, mem, no, back), 1);
    }

    /// With every rule FramePointer the walk is the frame-pointer walk.
    #[test]
    fn unwind_walk_by_frame_pointers_matches_walk_frames() {
        let mut rng = Rng(3);
        for _ in 0..2000 {
            // A random chain, sometimes broken, in [0x1000, 0x1400).
            let mut words = std::vec![0usize; 128];
            for w in words.iter_mut() {
                *w = match rng.below(4) {
                    0 => 0x1000 + rng.below(128) * 8,
                    1 => 0,
                    _ => 0x40_0000 + rng.below(1 << 20),
                };
            }
            let mem = |a: usize| {
                (0x1000..0x1400)
                    .contains(&a)
                    .then(|| words[(a - 0x1000) / 8])
            };
            let fp = 0x1000 + rng.below(64) * 8;
            let end = 0x1000 + (64 + rng.below(65)) * 8;
            let skip = rng.below(3);
            let (mut a, mut b) = ([0; 32], [0; 32]);
            let n = walk_frames(fp, end, skip, &mut a, mem);
            let m = walk_unwind(
                fp,
                end,
                skip,
                &mut b,
                mem,
                |_| false,
                |_| UnwindRule::FramePointer,
            );
            assert_eq!(&a[..n], &b[..m], "fp {fp:#x} end {end:#x} skip {skip}");
            // The fast frame-pointer step, taken for some pcs, walks the same frames.
            let mut c = [0; 32];
            let k = walk_unwind(
                fp,
                end,
                skip,
                &mut c,
                mem,
                |pc| pc & 1 == 0,
                |_| UnwindRule::FramePointer,
            );
            assert_eq!(
                &a[..n],
                &c[..k],
                "fp {fp:#x} end {end:#x} skip {skip} (fast)"
            );
        }
    }

    #[test]
    fn frame_walk_stops_at_a_broken_chain() {
        // Frames at 0x1000 -> 0x1040 -> 0x1080 -> (back to 0x1000: not growing).
        let mem = |a: usize| match a {
            0x1000 => Some(0x1040),
            0x1008 => Some(0xaaa),
            0x1040 => Some(0x1080),
            0x1048 => Some(0xbbb),
            0x1080 => Some(0x1000),
            0x1088 => Some(0xccc),
            _ => None,
        };
        let mut out = [0; 8];
        assert_eq!(walk_frames(0x1000, 0x2000, 0, &mut out, mem), 3);
        assert_eq!(&out[..3], &[0xaaa, 0xbbb, 0xccc]);
        assert_eq!(walk_frames(0x1000, 0x2000, 1, &mut out, mem), 2);
        assert_eq!(&out[..2], &[0xbbb, 0xccc]);
        assert_eq!(walk_frames(0x1000, 0x1050, 0, &mut out, mem), 2);
        assert_eq!(walk_frames(0x1001, 0x2000, 0, &mut out, mem), 0);
    }
}
