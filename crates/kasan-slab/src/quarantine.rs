//! The generic-mode quarantine: freed objects wait here before their memory can be
//! reused, so a use-after-free finds poisoned shadow rather than a new object.
//!
//! As Linux's `mm/kasan/quarantine.c`: each CPU appends to its own queue (no shared
//! lock on the common path); a queue over its limit moves whole into the global FIFO
//! of batches; when the global total passes the bound, the oldest batch is taken
//! out and its objects released, outside every quarantine lock.
//!
//! The bound is the smaller of `kasan.quarantine_size` and a share of the live heap
//! (`kasan.quarantine_live_percent`, default half), never below a floor
//! (`kasan.quarantine_floor`, 16 MiB) so that a small program still catches a late
//! use-after-free: a program's quarantine grows with its heap instead of starting at
//! 1/32 of the machine. The live heap is the arena's pages in runs less the
//! quarantine's own bytes, read at each move into the global FIFO (where the
//! eviction is decided); the per-CPU limit follows the bound of the last move.
//!
//! ```text
//!  per-CPU queues:  [cpu0: a->b->c] [cpu1: d] ...      (each <= percpu limit)
//!  global batches:  head [e->f->g] [h->i] ... [j->k] tail   (total <= max)
//! ```
//!
//! Objects are linked through their metadata's `next` word, out of the program's
//! reach. A quarantined object keeps its run (and so its metadata) alive until it
//! leaves, even if its cache is destroyed meanwhile: destroying a cache never
//! searches the quarantine.

use core::sync::atomic::{AtomicUsize, Ordering};

use kasan_core::sync::{CachePadded, SpinLock};

use crate::pages::{Arenas, ObjMeta, PAGE_SIZE};

/// Per-CPU queues (CPUs beyond this share them, by CPU number modulo).
const CPUS: usize = 16;
/// Batches in the global FIFO.
const BATCHES: usize = 64;
/// Linux's `QUARANTINE_PERCPU_SIZE`.
const PERCPU_MAX: usize = 1 << 20;

#[derive(Debug, Clone, Copy, Default)]
struct QList {
    head: usize,
    tail: usize,
    bytes: usize,
}

#[derive(Debug)]
struct Global {
    batches: [QList; BATCHES],
    /// Oldest batch.
    head: usize,
    /// Batch being filled.
    tail: usize,
    bytes: usize,
}

/// The quarantine.
#[derive(Debug)]
pub struct Quarantine {
    /// One cache line each, so CPUs appending to their own queues do not contend.
    percpu: [CachePadded<SpinLock<QList>>; CPUS],
    global: SpinLock<Global>,
    max: AtomicUsize,
    /// The live-heap share in percent (0: no live bound).
    live_percent: AtomicUsize,
    /// The least the live bound allows.
    floor: AtomicUsize,
    /// The bound computed at the last move into the global FIFO (the per-CPU limit
    /// follows it).
    bound: AtomicUsize,
}

impl Default for Quarantine {
    fn default() -> Self {
        Self::new()
    }
}

fn meta_of(arena: &Arenas, obj: usize) -> Option<&'static ObjMeta> {
    let run = arena.run_of(obj)?;
    Some(run.meta(run.slot_of(obj)))
}

impl QList {
    /// Appends `obj`; an object whose run is gone cannot be linked and is dropped
    /// (it cannot happen: a quarantined object keeps its run alive).
    fn push(&mut self, arena: &Arenas, obj: usize, bytes: usize) {
        let Some(meta) = meta_of(arena, obj) else {
            return;
        };
        meta.next.store(0, Ordering::Relaxed);
        match meta_of(arena, self.tail) {
            Some(tail) if self.tail != 0 => tail.next.store(obj, Ordering::Relaxed),
            _ => self.head = obj,
        }
        self.tail = obj;
        self.bytes += bytes;
    }

    fn append(&mut self, arena: &Arenas, other: QList) {
        if other.head == 0 {
            return;
        }
        match meta_of(arena, self.tail) {
            Some(tail) if self.tail != 0 => tail.next.store(other.head, Ordering::Relaxed),
            _ => self.head = other.head,
        }
        self.tail = other.tail;
        self.bytes += other.bytes;
    }
}

fn release_all(arena: &Arenas, list: QList, release: &impl Fn(usize)) {
    let mut obj = list.head;
    while obj != 0 {
        // Read the link before the release reuses it.
        let next = meta_of(arena, obj).map_or(0, |m| m.next.load(Ordering::Relaxed));
        release(obj);
        if obj == list.tail {
            break;
        }
        obj = next;
    }
}

impl Quarantine {
    /// An empty quarantine holding nothing (bound 0) until [`Quarantine::set_max`].
    pub const fn new() -> Quarantine {
        Quarantine {
            percpu: [const {
                CachePadded(SpinLock::new(QList {
                    head: 0,
                    tail: 0,
                    bytes: 0,
                }))
            }; CPUS],
            global: SpinLock::new(Global {
                batches: [QList {
                    head: 0,
                    tail: 0,
                    bytes: 0,
                }; BATCHES],
                head: 0,
                tail: 0,
                bytes: 0,
            }),
            max: AtomicUsize::new(0),
            live_percent: AtomicUsize::new(0),
            floor: AtomicUsize::new(0),
            bound: AtomicUsize::new(usize::MAX),
        }
    }

    /// Bounds the quarantine by `percent` of the live heap as well (0: no such bound),
    /// but never below `floor` bytes.
    pub fn set_live_bound(&self, percent: usize, floor: usize) {
        // Relaxed: tunables read afresh at each put; no data hangs on them.
        self.live_percent.store(percent, Ordering::Relaxed);
        self.floor.store(floor, Ordering::Relaxed);
        self.bound.store(usize::MAX, Ordering::Relaxed);
    }

    /// The bound for a quarantine holding `held` bytes of a heap of `used` bytes:
    /// `max`, lowered to the live share (live = used - held), not below the floor.
    fn bound_for(&self, max: usize, used: usize, held: usize) -> usize {
        // Relaxed: tunables (see `set_live_bound`).
        let percent = self.live_percent.load(Ordering::Relaxed);
        if percent == 0 {
            return max;
        }
        let live = used.saturating_sub(held);
        let share = (live / 100).saturating_mul(percent);
        share.max(self.floor.load(Ordering::Relaxed)).min(max)
    }

    /// Sets the bound in bytes (the footprint of slots or pages held).
    pub fn set_max(&self, bytes: usize) {
        self.max.store(bytes, Ordering::Relaxed);
    }

    /// Bytes held (queues this thread is in the middle of changing are not counted).
    pub fn bytes(&self) -> usize {
        let percpu: usize = self
            .percpu
            .iter()
            .filter_map(|q| q.lock_unless_held().map(|q| q.bytes))
            .sum();
        percpu + self.global.lock_unless_held().map_or(0, |g| g.bytes)
    }

    /// Quarantines `obj` (whose footprint is `bytes`), freed on `cpu`; objects that
    /// leave the quarantine (or `obj` itself, if it cannot enter) are passed to
    /// `release`, with no quarantine lock held. Never waits on a lock this thread
    /// holds (a free from a signal handler that interrupted a free): it uses another
    /// CPU's queue, or leaves a full queue to the next free.
    pub fn put(
        &self,
        obj: usize,
        bytes: usize,
        cpu: usize,
        arena: &Arenas,
        release: impl Fn(usize),
    ) {
        let max = self.max.load(Ordering::Relaxed);
        if max == 0 || bytes > max / 4 {
            release(obj);
            return;
        }
        // Relaxed: a hint for the per-CPU limit, recomputed at every move below.
        let bound = self.bound.load(Ordering::Relaxed).min(max);
        let percpu_max = PERCPU_MAX.min(bound / (2 * CPUS)).max(1);
        let Some(mut q) = (0..CPUS).find_map(|i| self.percpu[(cpu + i) % CPUS].lock_unless_held())
        else {
            // Every queue is held by this thread (signal handlers nested CPUS deep).
            release(obj);
            return;
        };
        q.push(arena, obj, bytes);
        if q.bytes < percpu_max || self.global.held_by_current() {
            return;
        }
        let full = core::mem::take(&mut *q);
        drop(q);
        let Some(mut g) = self.global.lock_unless_held() else {
            // Not reached (checked above); the objects leave the quarantine early
            // rather than be lost.
            release_all(arena, full, &release);
            return;
        };
        let evicted = {
            let tail = g.tail;
            g.bytes += full.bytes;
            let max = self.bound_for(max, arena.used_pages() * PAGE_SIZE, g.bytes);
            // Relaxed: see the load above.
            self.bound.store(max, Ordering::Relaxed);
            let batch_size = (2 * max / BATCHES).max(1);
            g.batches[tail].append(arena, full);
            if g.batches[tail].bytes >= batch_size && (tail + 1) % BATCHES != g.head {
                g.tail = (tail + 1) % BATCHES;
            }
            let mut evicted = QList::default();
            while g.bytes > max {
                let head = g.head;
                let batch = core::mem::take(&mut g.batches[head]);
                g.bytes -= batch.bytes;
                evicted.append(arena, batch);
                if head == g.tail {
                    break;
                }
                g.head = (head + 1) % BATCHES;
            }
            evicted
        };
        drop(g);
        release_all(arena, evicted, &release);
    }

    /// Runs `f` holding `cpu`'s queue (tests of nested calls).
    #[cfg(test)]
    pub(crate) fn with_locked(&self, cpu: usize, f: impl FnOnce()) {
        let _g = self.percpu[cpu % CPUS].lock();
        f();
    }

    /// Takes every quarantine lock and keeps them (before `fork`).
    pub fn lock_all(&self) {
        for q in &self.percpu {
            core::mem::forget(q.lock());
        }
        core::mem::forget(self.global.lock());
    }

    /// Releases the locks taken by [`Quarantine::lock_all`].
    ///
    /// # Safety
    ///
    /// The caller must hold them through `lock_all`.
    pub unsafe fn unlock_all(&self) {
        // SAFETY: forwarded from the caller.
        unsafe {
            self.global.force_unlock();
            for q in &self.percpu {
                q.force_unlock();
            }
        }
    }
}
