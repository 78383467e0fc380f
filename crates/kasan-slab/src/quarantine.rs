//! The generic-mode quarantine: freed objects wait here before their memory can be
//! reused, so a use-after-free finds poisoned shadow rather than a new object.
//!
//! As Linux's `mm/kasan/quarantine.c`: each CPU appends to its own queue (no shared
//! lock on the common path); a queue over its limit moves whole into the global FIFO
//! of batches; when the global total passes the bound, the oldest batch is taken
//! out and its objects released, outside every quarantine lock.
//!
//! ```text
//!  per-CPU queues:  [cpu0: a->b->c] [cpu1: d] ...      (each <= percpu limit)
//!  global batches:  head [e->f->g] [h->i] ... [j->k] tail   (total <= max)
//! ```
//!
//! Objects are linked through their metadata's `next` word, out of the program's
//! reach.

use core::sync::atomic::{AtomicUsize, Ordering};

use kasan_core::sync::{CachePadded, SpinLock};

use crate::pages::{Arena, ObjMeta};

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
}

impl Default for Quarantine {
    fn default() -> Self {
        Self::new()
    }
}

fn meta_of(arena: &Arena, obj: usize) -> &'static ObjMeta {
    let run = arena
        .run_of(obj)
        .expect("quarantined object is in a live run");
    run.meta(run.slot_of(obj))
}

fn footprint(arena: &Arena, obj: usize) -> usize {
    let run = arena
        .run_of(obj)
        .expect("quarantined object is in a live run");
    let h = run.header();
    match h.cache.load(Ordering::Relaxed) {
        c if crate::pages::is_page_backed(c) => {
            h.pages.load(Ordering::Relaxed) as usize * crate::pages::PAGE_SIZE
        }
        _ => h.slot.load(Ordering::Relaxed) as usize,
    }
}

impl QList {
    fn push(&mut self, arena: &Arena, obj: usize, bytes: usize) {
        meta_of(arena, obj).next.store(0, Ordering::Relaxed);
        if self.tail != 0 {
            meta_of(arena, self.tail).next.store(obj, Ordering::Relaxed);
        } else {
            self.head = obj;
        }
        self.tail = obj;
        self.bytes += bytes;
    }

    fn append(&mut self, arena: &Arena, other: QList) {
        if other.head == 0 {
            return;
        }
        if self.tail != 0 {
            meta_of(arena, self.tail)
                .next
                .store(other.head, Ordering::Relaxed);
        } else {
            self.head = other.head;
        }
        self.tail = other.tail;
        self.bytes += other.bytes;
    }

    /// Moves out the objects `take` selects, keeping the others in order.
    fn split_off(&mut self, arena: &Arena, mut take: impl FnMut(usize) -> bool) -> QList {
        let (mut kept, mut taken) = (QList::default(), QList::default());
        let mut obj = self.head;
        while obj != 0 {
            let next = meta_of(arena, obj).next.load(Ordering::Relaxed);
            let bytes = footprint(arena, obj);
            if take(obj) {
                taken.push(arena, obj, bytes);
            } else {
                kept.push(arena, obj, bytes);
            }
            obj = next;
        }
        *self = kept;
        taken
    }
}

fn release_all(arena: &Arena, list: QList, release: &impl Fn(usize)) {
    let mut obj = list.head;
    while obj != 0 {
        let next = meta_of(arena, obj).next.load(Ordering::Relaxed);
        release(obj);
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
        }
    }

    /// Sets the bound in bytes (the footprint of slots or pages held).
    pub fn set_max(&self, bytes: usize) {
        self.max.store(bytes, Ordering::Relaxed);
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.percpu.iter().map(|q| q.lock().bytes).sum::<usize>() + self.global.lock().bytes
    }

    /// Quarantines `obj` (whose footprint is `bytes`), freed on `cpu`; objects that
    /// leave the quarantine (or `obj` itself, if it cannot enter) are passed to
    /// `release`, with no quarantine lock held.
    pub fn put(
        &self,
        obj: usize,
        bytes: usize,
        cpu: usize,
        arena: &Arena,
        release: impl Fn(usize),
    ) {
        let max = self.max.load(Ordering::Relaxed);
        if max == 0 || bytes > max / 4 {
            release(obj);
            return;
        }
        let percpu_max = PERCPU_MAX.min(max / (2 * CPUS)).max(1);
        let full = {
            let mut q = self.percpu[cpu % CPUS].lock();
            q.push(arena, obj, bytes);
            if q.bytes < percpu_max {
                return;
            }
            core::mem::take(&mut *q)
        };
        let batch_size = (2 * max / BATCHES).max(1);
        let evicted = {
            let mut g = self.global.lock();
            let tail = g.tail;
            g.bytes += full.bytes;
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
        release_all(arena, evicted, &release);
    }

    /// Releases every quarantined object `of_cache` selects (a cache being
    /// destroyed).
    pub fn remove_cache(&self, cache: u32, arena: &Arena, release: impl Fn(usize)) {
        let of_cache = |obj: usize| {
            arena
                .run_of(obj)
                .is_some_and(|r| r.header().cache.load(Ordering::Relaxed) == cache)
        };
        let mut removed = QList::default();
        for q in &self.percpu {
            let taken = q.lock().split_off(arena, of_cache);
            removed.append(arena, taken);
        }
        {
            let mut g = self.global.lock();
            for i in 0..BATCHES {
                let taken = g.batches[i].split_off(arena, of_cache);
                g.bytes -= taken.bytes;
                removed.append(arena, taken);
            }
        }
        release_all(arena, removed, &release);
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
