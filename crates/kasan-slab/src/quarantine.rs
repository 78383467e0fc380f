//! The generic-mode quarantine: freed objects wait here before their memory can be
//! reused, so a use-after-free finds poisoned shadow rather than a new object.
//!
//! As Linux's `mm/kasan/quarantine.c`: each CPU appends to its own queue (no shared
//! lock on the common path); a queue over its limit moves whole into the global FIFO
//! of batches; when the global total passes the bound (less one per-CPU queue, so a
//! thread freeing alone keeps the whole within it), the oldest batch is taken out
//! and its objects released, outside every quarantine lock, in one call to the
//! owner ([`Owner::release_many`]). An object counts what it holds: its pages, or
//! its slot, metadata and batch entry, as the heap says.
//!
//! The bound is the smaller of `kasan.quarantine_size` and a share of the live heap
//! (`kasan.quarantine_live_percent`, default half), never below a floor
//! (`kasan.quarantine_floor`, 24 MiB) so that a small program still catches a late
//! use-after-free: a program's quarantine grows with its heap instead of starting at
//! 1/32 of the machine. The live heap is what the owner counts its objects holding
//! ([`Owner::counted_bytes`]: the heap's per-CPU byte counts beside its live-object
//! counts) less the global FIFO's bytes, read at each move into the global FIFO
//! (where the eviction is decided); the per-CPU limit follows the bound of the last
//! move. The arena's pages in runs, used before, counted as live the runs kept by a
//! few live or quarantined objects, so the bound grew with the quarantine (SQLite's
//! shell: peak RSS 253 -> 208 MB).
//!
//! ```text
//!  per-CPU queues:  [cpu0: a->b->c] [cpu1: d] ...      (each <= percpu limit)
//!  global batches:  head [e->f->g] [h->i] ... [j->k] tail   (total <= max)
//! ```
//!
//! A queue is a list of [`Batch`]es, pages of object addresses out of the program's
//! reach (ASan's `QuarantineBatch`; Linux links objects through their free
//! metadata): the eviction reads the next object from the array, not from the cold
//! metadata of the one before it, so the cache misses of consecutive objects
//! overlap, and it asks for the head-map entries and run headers of the objects a
//! few ahead. Batches come from a [`BatchPool`] and go back to it a whole evicted
//! list at a time. An object that finds no batch (no memory, or a nested call
//! holding the pool) leaves the quarantine at once. A quarantined object keeps its
//! run (and so its metadata) alive until it leaves, even if its cache is destroyed
//! meanwhile: destroying a cache never searches the quarantine.

use core::sync::atomic::{AtomicUsize, Ordering};

use kasan_core::sync::{CachePadded, SpinLock, TryLock};

use crate::pages::{Arenas, Batch, BatchPool, BATCH_OBJS, PAGE_SIZE};

/// Per-CPU queues (CPUs beyond this share them, by CPU number modulo).
const CPUS: usize = 16;
/// Batches in the global FIFO.
const BATCHES: usize = 64;
/// Linux's `QUARANTINE_PERCPU_SIZE`.
const PERCPU_MAX: usize = 1 << 20;

/// Objects the eviction looks ahead: it asks for the head-map entry of the object
/// this far ahead, for the run header of the one half as far, and for the metadata
/// and shadow of the one a quarter as far (each stage reads what the one before
/// loaded).
const LOOKAHEAD: usize = 16;

/// What the eviction asks to be loaded for an object some places ahead of the one it
/// releases (see [`LOOKAHEAD`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ahead {
    /// Its page's head-map entry.
    Head,
    /// Its run's header.
    Run,
    /// Its metadata and its shadow.
    Meta,
}

#[derive(Debug, Clone, Copy, Default)]
struct QList {
    head: Option<&'static Batch>,
    tail: Option<&'static Batch>,
    bytes: usize,
    /// Objects held.
    objs: usize,
}

#[derive(Debug)]
struct Global {
    batches: [QList; BATCHES],
    /// Oldest batch.
    head: usize,
    /// Batch being filled.
    tail: usize,
    bytes: usize,
    /// Objects held.
    objs: usize,
}

/// The quarantine.
#[derive(Debug)]
pub struct Quarantine {
    /// One cache line each, so CPUs appending to their own queues do not contend.
    percpu: [CachePadded<TryLock<QList>>; CPUS],
    global: SpinLock<Global>,
    /// The queues' batches.
    pool: BatchPool,
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

impl QList {
    /// Appends `obj`, taking a batch from `pool` when the last one is full; false
    /// (nothing changed) when there is none.
    fn push(
        &mut self,
        pool: &BatchPool,
        map: impl FnOnce(usize) -> Option<usize>,
        obj: usize,
        bytes: usize,
    ) -> bool {
        // Relaxed: the list is ours under its queue's lock.
        let tail = match self.tail {
            Some(t) if t.count.load(Ordering::Relaxed) < BATCH_OBJS => t,
            old => {
                let Some(b) = pool.get(map) else {
                    return false;
                };
                match old {
                    Some(t) => t.set_next(Some(b)),
                    None => self.head = Some(b),
                }
                self.tail = Some(b);
                b
            }
        };
        let n = tail.count.load(Ordering::Relaxed);
        tail.objs[n].store(obj, Ordering::Relaxed);
        tail.count.store(n + 1, Ordering::Relaxed);
        self.bytes += bytes;
        self.objs += 1;
        true
    }

    fn append(&mut self, other: QList) {
        let Some(head) = other.head else {
            return;
        };
        match self.tail {
            Some(t) => t.set_next(Some(head)),
            None => self.head = Some(head),
        }
        self.tail = other.tail;
        self.bytes += other.bytes;
        self.objs += other.objs;
    }
}

/// What the quarantine needs from the allocator it serves.
pub trait Owner {
    /// Zeroed, page-aligned memory of `bytes` kept for the heap's life (the queues'
    /// batches), if any.
    fn map(&self, bytes: usize) -> Option<usize>;
    /// Starts loading what [`Owner::release`] of `obj` reads, some objects before it
    /// is released (see [`Ahead`]).
    fn ahead(&self, obj: usize, stage: Ahead);
    /// Takes back an object that leaves the quarantine (no quarantine lock held).
    fn release(&self, obj: usize);
    /// What the objects allocated and not yet released hold, quarantined ones
    /// included, if the owner counts it (the live-heap bound); `None`: the bound
    /// reads the arena's pages in runs instead.
    fn counted_bytes(&self) -> Option<usize> {
        None
    }
    /// Takes back, in order, the objects of one eviction (no quarantine lock held):
    /// an owner may keep what it locks from one to the next. Every object must be
    /// taken; by default each is released on its own.
    fn release_many(&self, objs: &mut dyn Iterator<Item = usize>) {
        for obj in objs {
            self.release(obj);
        }
    }
}

/// The objects of an evicted list, oldest first, each yielded after the loads of
/// those [`LOOKAHEAD`] and less ahead of it were started ([`Owner::ahead`]).
struct Evicted<'a, O: Owner + ?Sized> {
    batch: Option<&'static Batch>,
    tail: &'static Batch,
    /// The next entry of `batch`.
    at: usize,
    owner: &'a O,
}

impl<O: Owner + ?Sized> Iterator for Evicted<'_, O> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        loop {
            let b = self.batch?;
            // Relaxed: the list was taken out of every queue; it is ours alone.
            let n = b.count.load(Ordering::Relaxed);
            let obj = |i: usize| b.objs[i].load(Ordering::Relaxed);
            let i = self.at;
            if i < n {
                for (d, stage) in [
                    (LOOKAHEAD, Ahead::Head),
                    (LOOKAHEAD / 2, Ahead::Run),
                    (LOOKAHEAD / 4, Ahead::Meta),
                ] {
                    if i + d < n {
                        self.owner.ahead(obj(i + d), stage);
                    }
                }
                self.at = i + 1;
                return Some(obj(i));
            }
            self.batch = if core::ptr::eq(b, self.tail) {
                None
            } else {
                b.next()
            };
            self.at = 0;
        }
    }
}

/// Releases every object of `list` (oldest first) and gives its batches back.
fn release_all(pool: &BatchPool, list: QList, owner: &impl Owner) {
    let (Some(head), Some(tail)) = (list.head, list.tail) else {
        return;
    };
    let mut objs = Evicted {
        batch: Some(head),
        tail,
        at: 0,
        owner,
    };
    owner.release_many(&mut objs);
    // Whatever the owner left (none: it must take them all) is not lost.
    for obj in objs {
        owner.release(obj);
    }
    pool.put_chain(head, tail);
}

impl Quarantine {
    /// An empty quarantine holding nothing (bound 0) until [`Quarantine::set_max`].
    pub const fn new() -> Quarantine {
        Quarantine {
            percpu: [const {
                CachePadded(TryLock::new(QList {
                    head: None,
                    tail: None,
                    bytes: 0,
                    objs: 0,
                }))
            }; CPUS],
            global: SpinLock::new(Global {
                batches: [QList {
                    head: None,
                    tail: None,
                    bytes: 0,
                    objs: 0,
                }; BATCHES],
                head: 0,
                tail: 0,
                bytes: 0,
                objs: 0,
            }),
            pool: BatchPool::new(),
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

    /// The bound for a quarantine holding `held` bytes of a heap whose objects hold
    /// `used` bytes, the quarantined ones included: `max`, lowered to the live share
    /// (live = used - held), not below the floor.
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

    /// Sets the bound in bytes (the footprint of what is held: pages, or slots with
    /// their metadata and batch entries, as the heap counts them).
    pub fn set_max(&self, bytes: usize) {
        self.max.store(bytes, Ordering::Relaxed);
    }

    /// Bytes and objects held (queues this thread is in the middle of changing, and
    /// objects being evicted now, are not counted).
    fn held(&self) -> (usize, usize) {
        let add = |(b, o): (usize, usize), (qb, qo)| (b + qb, o + qo);
        let percpu = self
            .percpu
            .iter()
            .filter_map(|q| q.lock_unless_held().map(|q| (q.bytes, q.objs)))
            .fold((0, 0), add);
        let global = self
            .global
            .lock_unless_held()
            .map_or((0, 0), |g| (g.bytes, g.objs));
        add(percpu, global)
    }

    /// Bytes held (see [`Quarantine::held`]).
    pub fn bytes(&self) -> usize {
        self.held().0
    }

    /// Objects held (see [`Quarantine::held`]).
    pub fn objects(&self) -> usize {
        self.held().1
    }

    /// Quarantines `obj` (whose footprint is `bytes`), freed on `cpu`; objects that
    /// leave the quarantine (or `obj` itself, if it cannot enter) go back to `owner`
    /// ([`Owner::release`]). Never waits on a lock this
    /// thread holds (a free from a signal handler that interrupted a free): it uses
    /// another CPU's queue, or leaves a full queue to the next free.
    pub fn put(&self, obj: usize, bytes: usize, cpu: usize, arena: &Arenas, owner: &impl Owner) {
        let max = self.max.load(Ordering::Relaxed);
        if max == 0 || bytes > max / 4 {
            owner.release(obj);
            return;
        }
        // Relaxed: a hint for the per-CPU limit, recomputed at every move below.
        let bound = self.bound.load(Ordering::Relaxed).min(max);
        let percpu_max = PERCPU_MAX.min(bound / (2 * CPUS)).max(1);
        // A queue held (another thread on this CPU slot, or a signal handler's own
        // thread) sends the object to the next one.
        let Some(mut q) = (0..CPUS).find_map(|i| self.percpu[(cpu + i) % CPUS].try_lock()) else {
            // Every queue is held (16 frees at once, or handlers nested 16 deep): the
            // object leaves the quarantine at once rather than wait.
            owner.release(obj);
            return;
        };
        if !q.push(&self.pool, |len| owner.map(len), obj, bytes) {
            drop(q);
            owner.release(obj);
            return;
        }
        if q.bytes < percpu_max || self.global.held_by_current() {
            return;
        }
        let full = core::mem::take(&mut *q);
        drop(q);
        let Some(mut g) = self.global.lock_unless_held() else {
            // Not reached (checked above); the objects leave the quarantine early
            // rather than be lost.
            release_all(&self.pool, full, owner);
            return;
        };
        let evicted = {
            let tail = g.tail;
            g.bytes += full.bytes;
            g.objs += full.objs;
            // What the live objects hold, as the owner counts them (the arena's
            // pages in runs would count the holes quarantined objects leave in
            // their runs as live, and the bound would grow with the quarantine);
            // the other CPUs' queues are left in (at most one limit each).
            let used = owner
                .counted_bytes()
                .unwrap_or_else(|| arena.used_pages() * PAGE_SIZE);
            let max = self.bound_for(max, used, g.bytes);
            // Relaxed: see the load above.
            self.bound.store(max, Ordering::Relaxed);
            let batch_size = (2 * max / BATCHES).max(1);
            g.batches[tail].append(full);
            if g.batches[tail].bytes >= batch_size && (tail + 1) % BATCHES != g.head {
                g.tail = (tail + 1) % BATCHES;
            }
            let mut evicted = QList::default();
            // Room is left for one per-CPU queue, so that a thread freeing alone
            // keeps the whole quarantine within the bound (each other queue being
            // filled at the same time may add a 32nd of it).
            while g.bytes > max.saturating_sub(percpu_max) {
                let head = g.head;
                let batch = core::mem::take(&mut g.batches[head]);
                g.bytes -= batch.bytes;
                g.objs -= batch.objs;
                evicted.append(batch);
                if head == g.tail {
                    break;
                }
                g.head = (head + 1) % BATCHES;
            }
            evicted
        };
        drop(g);
        release_all(&self.pool, evicted, owner);
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
        self.pool.lock_all();
    }

    /// Releases the locks taken by [`Quarantine::lock_all`].
    ///
    /// # Safety
    ///
    /// The caller must hold them through `lock_all`.
    pub unsafe fn unlock_all(&self) {
        // SAFETY: forwarded from the caller.
        unsafe {
            self.pool.unlock_all();
            self.global.force_unlock();
            for q in &self.percpu {
                q.force_unlock();
            }
        }
    }
}
