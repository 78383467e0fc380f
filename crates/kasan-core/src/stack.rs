//! Saved stacks for every mode: the stack depot and the frame-pointer walk.
//!
//! The depot stores each distinct stack once and names it by a 32-bit handle, so an
//! object's alloc and free tracks cost 4 bytes of stack each. Records are persistent
//! and variable-size (16-byte header plus 8 bytes a frame), carved from 16 KiB pools
//! that the host maps on demand, up to a byte cap (`kasan.stack_depot_size`); past the
//! cap a save returns [`Handle::NONE`] and the report says the stack is not available.
//!
//! ```text
//!  handle (u32):  | extra:5 | offset:10 (16-byte units) | pool index + 1:17 |
//!  record:        | next handle u32 | hash u32 | frames u32 | 0 u32 | pc[0] .. pc[n-1] |
//! ```
//!
//! Lookups never lock: bucket heads and `next` links are only ever published with a
//! Release store after the record is complete, and read with Acquire. Inserts take a
//! spinlock and look again under it, so two threads never add the same stack twice.
#![allow(unsafe_code)]

use core::ptr;
use core::sync::atomic::{AtomicPtr, AtomicU32, AtomicUsize, Ordering};

use crate::sync::SpinLock;

/// Bytes in one pool.
pub const POOL_SIZE: usize = 16 << 10;
const POOL_INDEX_BITS: u32 = 17;
const OFFSET_BITS: u32 = 10;
const EXTRA_BITS: u32 = 5;
const RECORD_ALIGN: usize = 16;
const HEADER: usize = 16;
/// Most pools a depot can address.
pub const MAX_POOLS: usize = (1 << POOL_INDEX_BITS) - 1;
/// Most frames kept per stack.
pub const MAX_FRAMES: usize = 256;
const BUCKET_BITS: u32 = 16;
const BUCKETS: usize = 1 << BUCKET_BITS;

/// A depot handle: 0 means "no stack".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Handle(pub u32);

impl Handle {
    /// The absent stack.
    pub const NONE: Handle = Handle(0);

    /// Whether a stack is named.
    pub fn is_some(self) -> bool {
        self.0 & ((1 << (POOL_INDEX_BITS + OFFSET_BITS)) - 1) != 0
    }

    /// The handle with `bits` (5 bits) stored in its spare user bits.
    pub fn with_extra(self, bits: u32) -> Handle {
        let shift = POOL_INDEX_BITS + OFFSET_BITS;
        Handle((self.0 & ((1 << shift) - 1)) | ((bits & ((1 << EXTRA_BITS) - 1)) << shift))
    }

    /// The spare user bits.
    pub fn extra(self) -> u32 {
        self.0 >> (POOL_INDEX_BITS + OFFSET_BITS)
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

/// Where a depot's memory comes from.
pub trait PoolSource: Sync {
    /// Maps `bytes` of zeroed, writable memory that stays mapped for the process's
    /// life, or `None` if none can be had.
    fn map_pool(&self, bytes: usize) -> Option<*mut u8>;
}

/// Depot figures for `kasan.stats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DepotStats {
    /// Distinct stacks stored.
    pub stacks: usize,
    /// Bytes of memory the depot holds (table and pools).
    pub bytes: usize,
    /// Saves that failed because the cap was reached.
    pub failed: usize,
}

struct Alloc {
    pools: usize,
    offset: usize,
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

/// A 32-bit hash of the frames (multiply-xorshift over each word).
fn hash(frames: &[usize]) -> u32 {
    let mut h: u64 = 0x9747_b28c ^ frames.len() as u64;
    for &f in frames {
        h = (h ^ f as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        h ^= h >> 29;
    }
    (h ^ (h >> 32)) as u32
}

/// Frame-by-frame equality. Not `==` on slices: that becomes a call to `bcmp`,
/// which a hosted runtime interposes and checks.
fn same_frames(a: &[usize], b: &[usize]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            // SAFETY: both are references to live words; the volatile read only keeps
            // the loop from being turned into a library call.
            unsafe { ptr::read_volatile(x) == ptr::read_volatile(y) }
        })
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
            }),
            cap: AtomicUsize::new(128 << 20),
            stacks: AtomicUsize::new(0),
            bytes: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
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

    /// Current figures.
    pub fn stats(&self) -> DepotStats {
        DepotStats {
            stacks: self.stacks.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
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

    /// The record a handle names, if it is valid.
    fn record(&self, handle: Handle) -> Option<*const u8> {
        let pool = handle.pool();
        if pool == 0 || handle.offset() + HEADER > POOL_SIZE {
            return None;
        }
        // Acquire pairs with the Release store that published the pool.
        let base = self.pool_slot(pool - 1)?.load(Ordering::Acquire);
        // SAFETY: `offset` is inside the pool (checked above).
        (!base.is_null()).then(|| unsafe { base.add(handle.offset()) } as *const u8)
    }

    /// The frames a handle names; empty for [`Handle::NONE`] or a corrupt handle.
    pub fn fetch(&self, handle: Handle) -> &[usize] {
        let Some(record) = self.record(handle) else {
            return &[];
        };
        // SAFETY: a handle reaches readers only after its record was fully written and
        // published (Release in `save`, Acquire in `record`/`find`); records are never
        // freed or changed afterwards. The length was bounded when the record was made.
        unsafe {
            let len = (*(record.add(8) as *const u32)) as usize;
            if len > MAX_FRAMES || handle.offset() + HEADER + len * 8 > POOL_SIZE {
                return &[];
            }
            core::slice::from_raw_parts(record.add(HEADER) as *const usize, len)
        }
    }

    fn bucket(&self, hash: u32) -> Option<&AtomicU32> {
        // Acquire pairs with the Release store that published the table.
        let table = self.table.load(Ordering::Acquire);
        // SAFETY: the table has `BUCKETS` entries and is never freed.
        (!table.is_null()).then(|| unsafe { &*table.add(hash as usize & (BUCKETS - 1)) })
    }

    fn next_of(&self, record: *const u8) -> &AtomicU32 {
        // SAFETY: every record starts with its `next` link, a u32 at a 16-aligned address.
        unsafe { &*(record as *const AtomicU32) }
    }

    fn find(&self, head: &AtomicU32, hash_value: u32, frames: &[usize]) -> Option<Handle> {
        // Acquire pairs with the Release publication of each record in `save`.
        let mut handle = Handle(head.load(Ordering::Acquire));
        while let Some(record) = self.record(handle) {
            // SAFETY: a published record is complete and immutable (see `fetch`).
            let (h, len) = unsafe {
                (
                    *(record.add(4) as *const u32),
                    *(record.add(8) as *const u32) as usize,
                )
            };
            if h == hash_value && len == frames.len() && same_frames(self.fetch(handle), frames) {
                return Some(handle);
            }
            // Acquire: as above.
            handle = Handle(self.next_of(record).load(Ordering::Acquire));
        }
        None
    }

    /// Saves `frames` (at most [`MAX_FRAMES`] are kept) and returns their handle, or
    /// [`Handle::NONE`] if `frames` is empty or the depot is full. `can_alloc` false
    /// only finds existing stacks (for contexts that must not map memory).
    pub fn save(&self, frames: &[usize], can_alloc: bool, pools: &dyn PoolSource) -> Handle {
        let frames = &frames[..frames.len().min(MAX_FRAMES)];
        if frames.is_empty() {
            return Handle::NONE;
        }
        let h = hash(frames);
        if let Some(found) = self.bucket(h).and_then(|b| self.find(b, h, frames)) {
            return found;
        }
        if !can_alloc {
            return Handle::NONE;
        }
        let mut alloc = self.alloc.lock();
        if self.table.load(Ordering::Relaxed).is_null() && !self.map_table(pools) {
            self.failed.fetch_add(1, Ordering::Relaxed);
            return Handle::NONE;
        }
        let bucket = self.bucket(h).expect("table mapped above");
        // Look again: another thread may have added it while we waited for the lock.
        if let Some(found) = self.find(bucket, h, frames) {
            return found;
        }
        let size = (HEADER + frames.len() * 8).next_multiple_of(RECORD_ALIGN);
        if alloc.offset + size > POOL_SIZE && !self.new_pool(&mut alloc, pools) {
            self.failed.fetch_add(1, Ordering::Relaxed);
            return Handle::NONE;
        }
        let handle = Handle::new(alloc.pools, alloc.offset);
        let record = self.record(handle).expect("pool published") as *mut u8;
        alloc.offset += size;
        // SAFETY: `[record, record + size)` lies in the current pool (checked above), is
        // zeroed, and is not yet reachable by any reader.
        unsafe {
            *(record.add(4) as *mut u32) = h;
            *(record.add(8) as *mut u32) = frames.len() as u32;
            ptr::copy_nonoverlapping(
                frames.as_ptr(),
                record.add(HEADER) as *mut usize,
                frames.len(),
            );
        }
        // Relaxed: the record is not published yet; the Release below covers this store.
        self.next_of(record)
            .store(bucket.load(Ordering::Relaxed), Ordering::Relaxed);
        // Release pairs with the Acquire loads in `find`: a reader that sees this head
        // sees the whole record.
        bucket.store(handle.0, Ordering::Release);
        self.stacks.fetch_add(1, Ordering::Relaxed);
        handle
    }

    fn reserve(&self, bytes: usize) -> bool {
        let used = self.bytes.load(Ordering::Relaxed);
        if used + bytes > self.cap.load(Ordering::Relaxed) {
            return false;
        }
        self.bytes.store(used + bytes, Ordering::Relaxed);
        true
    }

    fn map_table(&self, pools: &dyn PoolSource) -> bool {
        let bytes = BUCKETS * 4;
        if !self.reserve(bytes) {
            return false;
        }
        match pools.map_pool(bytes) {
            Some(p) => {
                // Release pairs with the Acquire in `bucket`: the zeroed table is visible.
                self.table.store(p as *mut AtomicU32, Ordering::Release);
                true
            }
            None => false,
        }
    }

    fn new_pool(&self, alloc: &mut Alloc, pools: &dyn PoolSource) -> bool {
        if alloc.pools >= MAX_POOLS {
            return false;
        }
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
        // Release pairs with the Acquire in `record`: the zeroed pool is visible before
        // any handle into it is.
        slot.store(pool, Ordering::Release);
        alloc.pools += 1;
        alloc.offset = 0;
        true
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

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::sync::atomic::AtomicUsize as Counter;
    use std::vec::Vec;

    struct HeapPools(Counter);
    impl PoolSource for HeapPools {
        fn map_pool(&self, bytes: usize) -> Option<*mut u8> {
            self.0.fetch_add(1, Ordering::Relaxed);
            let v = std::vec![0u64; bytes / 8].leak();
            Some(v.as_mut_ptr() as *mut u8)
        }
    }

    #[test]
    fn dedup_and_round_trip() {
        let depot = StackDepot::new();
        let pools = HeapPools(Counter::new(0));
        let a = depot.save(&[1, 2, 3], true, &pools);
        let b = depot.save(&[1, 2, 4], true, &pools);
        assert!(a.is_some() && b.is_some() && a != b);
        assert_eq!(depot.save(&[1, 2, 3], true, &pools), a);
        assert_eq!(depot.save(&[1, 2, 3], false, &pools), a);
        assert_eq!(depot.save(&[9], false, &pools), Handle::NONE);
        assert_eq!(depot.fetch(a), &[1, 2, 3]);
        assert_eq!(depot.fetch(b), &[1, 2, 4]);
        assert_eq!(depot.fetch(a.with_extra(0x1f)), &[1, 2, 3]);
        assert_eq!(a.with_extra(0x15).extra(), 0x15);
        assert_eq!(depot.fetch(Handle::NONE), &[] as &[usize]);
        assert_eq!(depot.fetch(Handle(0x7fff_fff0)), &[] as &[usize]);
        assert_eq!(depot.stats().stacks, 2);
    }

    #[test]
    fn many_stacks_fill_pools_then_the_cap_fails_cleanly() {
        let depot = StackDepot::new();
        let pools = HeapPools(Counter::new(0));
        depot.set_cap(BUCKETS * 4 + 4 * POOL_SIZE);
        let mut saved = Vec::new();
        for i in 0..10_000usize {
            let frames: Vec<usize> = (0..10).map(|j| i * 100 + j).collect();
            let h = depot.save(&frames, true, &pools);
            if !h.is_some() {
                break;
            }
            saved.push((h, frames));
        }
        // 4 pools of 16 KiB hold 4 * (16384 / 96) = 680 ten-frame records.
        assert_eq!(saved.len(), 4 * (POOL_SIZE / 96));
        assert!(depot.stats().failed >= 1);
        assert!(depot.stats().bytes <= BUCKETS * 4 + 4 * POOL_SIZE);
        for (h, frames) in &saved {
            assert_eq!(depot.fetch(*h), &frames[..]);
        }
    }

    #[test]
    fn threads_saving_the_same_and_different_stacks() {
        let depot = std::sync::Arc::new(StackDepot::new());
        let pools = std::sync::Arc::new(HeapPools(Counter::new(0)));
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
