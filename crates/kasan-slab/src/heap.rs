//! Generic-mode kmalloc over the page arena: Linux's size classes as slab caches with
//! KASAN's redzones, page-backed large objects, per-object alloc/free tracks, and the
//! quarantine that delays reuse of freed memory.
//!
//! Shadow life of a slot (generic mode):
//!
//! ```text
//!  slab created     | SLAB_REDZONE ................................ |
//!  kmalloc(13)      | 00 05 | SLAB_REDZONE (rest of object + redzone) |
//!  kfree            | SLAB_FREE (object) | SLAB_REDZONE (redzone)     |
//!  out of quarantine: unchanged until the slot is handed out again
//! ```

use core::sync::atomic::{AtomicUsize, Ordering};

use kasan_core::report::{Backing, Describe, Name, ObjectInfo, Track};
use kasan_core::shadow::{encoding, round_up, Shadow, GRANULE_SIZE};
use kasan_core::stack::Handle;
use kasan_core::sync::SpinLock;

use crate::pages::{header_size, Arena, ObjMeta, Run, State, LARGE, PAGE_SIZE};

/// What the host provides below the heap.
pub trait Host: Sync {
    /// Gives the memory of `[addr, addr + len)` (whole pages) back; it must read as
    /// zero or keep its contents, either is fine.
    fn discard(&self, addr: usize, len: usize);
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
/// Largest size served by a slab cache (Linux's `KMALLOC_MAX_CACHE_SIZE` with 4K pages).
pub const KMALLOC_MAX_CACHE_SIZE: usize = 8192;
/// Alignment of every object (what `malloc` promises on x86-64).
pub const MIN_ALIGN: usize = 16;
/// Largest request the heap accepts.
pub const MAX_SIZE: usize = 1 << 40;

/// Why an allocation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllocError {
    /// The size or alignment is impossible.
    Invalid,
    /// The arena is full.
    OutOfMemory,
}

/// Why a free was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FreeError {
    /// Not the start of an object the heap handed out.
    Invalid,
    /// The object is already free.
    Double,
}

struct CacheState {
    /// Runs with at least one free slot.
    partial: usize,
    /// One fully free run kept back to avoid churn.
    spare: usize,
}

/// A slab cache.
struct Cache {
    name: &'static str,
    object_size: usize,
    slot: usize,
    nobj: usize,
    pages: usize,
    first: usize,
    state: SpinLock<CacheState>,
}

impl Cache {
    const fn kmalloc(index: usize) -> Cache {
        let object_size = KMALLOC_SIZES[index];
        let slot = (object_size + optimal_redzone(object_size)).next_multiple_of(MIN_ALIGN);
        // At least 16 objects and 16 KiB a run, so runs amortise their header.
        let min_bytes = if slot * 16 > 16 << 10 {
            slot * 16
        } else {
            16 << 10
        };
        let objects_pages = min_bytes.div_ceil(PAGE_SIZE);
        let nobj = objects_pages * PAGE_SIZE / slot;
        let first = header_size(nobj).next_multiple_of(PAGE_SIZE);
        Cache {
            name: KMALLOC_NAMES[index],
            object_size,
            slot,
            nobj,
            pages: first / PAGE_SIZE + objects_pages,
            first,
            state: SpinLock::new(CacheState {
                partial: 0,
                spare: 0,
            }),
        }
    }
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

struct Quarantine {
    head: usize,
    tail: usize,
    bytes: usize,
}

/// The heap: kmalloc caches, large objects and the quarantine over one arena.
pub struct Heap<H: Host> {
    host: H,
    shadow: Shadow,
    arena: Arena,
    caches: [Cache; 13],
    quarantine: SpinLock<Quarantine>,
    quarantine_max: AtomicUsize,
    live: AtomicUsize,
}

impl<H: Host> core::fmt::Debug for Heap<H> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Heap")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// The class index for `size` bytes aligned to `align`, if a slab cache can serve it.
fn class_for(size: usize, align: usize) -> Option<usize> {
    (0..KMALLOC_SIZES.len()).find(|&i| {
        let c = &KMALLOC_SIZES[i];
        // Objects sit `slot` bytes apart from a page boundary: every one is aligned
        // to `align` when the slot size is a multiple of it.
        *c >= size
            && (align <= MIN_ALIGN
                || (align <= PAGE_SIZE && slot_of_class(i).is_multiple_of(align)))
    })
}

const fn slot_of_class(i: usize) -> usize {
    (KMALLOC_SIZES[i] + optimal_redzone(KMALLOC_SIZES[i])).next_multiple_of(MIN_ALIGN)
}

fn pack_info(cpu: u32, time_ns: u64) -> u64 {
    ((cpu as u64 & 0xF_FFFF) << 44) | ((time_ns / 1000) & ((1 << 44) - 1))
}

fn unpack_info(info: u64) -> (u32, u64) {
    ((info >> 44) as u32, (info & ((1 << 44) - 1)) * 1000)
}

impl<H: Host> Heap<H> {
    /// A heap with no memory yet; call [`Heap::init`] before use.
    pub const fn new(host: H, shadow: Shadow) -> Heap<H> {
        Heap {
            host,
            shadow,
            arena: Arena::new(),
            caches: [
                Cache::kmalloc(0),
                Cache::kmalloc(1),
                Cache::kmalloc(2),
                Cache::kmalloc(3),
                Cache::kmalloc(4),
                Cache::kmalloc(5),
                Cache::kmalloc(6),
                Cache::kmalloc(7),
                Cache::kmalloc(8),
                Cache::kmalloc(9),
                Cache::kmalloc(10),
                Cache::kmalloc(11),
                Cache::kmalloc(12),
            ],
            quarantine: SpinLock::new(Quarantine {
                head: 0,
                tail: 0,
                bytes: 0,
            }),
            quarantine_max: AtomicUsize::new(0),
            live: AtomicUsize::new(0),
        }
    }

    /// Gives the heap its arena.
    ///
    /// # Safety
    ///
    /// As [`Arena::init`]; the arena must also be covered by the heap's shadow.
    pub unsafe fn init(&self, base: usize, size: usize) {
        // SAFETY: forwarded from the caller.
        unsafe { self.arena.init(base, size) };
    }

    /// Takes every lock of the heap and keeps them (before `fork`), in the order the
    /// heap itself nests them, so the child never inherits a lock held by a thread
    /// it does not have.
    pub fn lock_all(&self) {
        core::mem::forget(self.quarantine.lock());
        for cache in &self.caches {
            core::mem::forget(cache.state.lock());
        }
        self.arena.lock_all();
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
            self.arena.unlock_all();
            for cache in &self.caches {
                cache.state.force_unlock();
            }
            self.quarantine.force_unlock();
        }
    }

    /// Whether `addr` lies in the heap's arena.
    pub fn contains(&self, addr: usize) -> bool {
        self.arena.contains(addr)
    }

    /// Sets the quarantine bound in bytes (0 disables it).
    pub fn set_quarantine_max(&self, bytes: usize) {
        self.quarantine_max.store(bytes, Ordering::Relaxed);
    }

    /// Current figures.
    pub fn stats(&self) -> HeapStats {
        HeapStats {
            pages: self.arena.used_pages.load(Ordering::Relaxed),
            quarantine_bytes: self.quarantine.lock().bytes,
            live_objects: self.live.load(Ordering::Relaxed),
        }
    }

    /// Allocates `size` bytes aligned to `align` (a power of two), recording `track`
    /// as the allocation. `zero` clears the memory. `size` 0 gives a unique object
    /// with no accessible byte.
    pub fn alloc(
        &self,
        size: usize,
        align: usize,
        zero: bool,
        track: &Track,
    ) -> Result<usize, AllocError> {
        if size > MAX_SIZE || !align.is_power_of_two() || align > MAX_SIZE {
            return Err(AllocError::Invalid);
        }
        let object = match class_for(size, align) {
            Some(i) => self.alloc_slab(i)?,
            None => self.alloc_large(size, align)?,
        };
        let run = self.arena.run_of(object).expect("fresh object is in a run");
        let i = run.index_of(object).expect("fresh object starts a slot");
        let meta = run.meta(i);
        meta.size.store(size as u32, Ordering::Relaxed);
        meta.alloc_pid.store(track.pid, Ordering::Relaxed);
        meta.alloc_stack.store(track.stack.0, Ordering::Relaxed);
        meta.alloc_info
            .store(pack_info(track.cpu, track.time_ns), Ordering::Relaxed);
        meta.free_stack.store(0, Ordering::Relaxed);
        meta.free_pid.store(0, Ordering::Relaxed);
        meta.aux[0].store(0, Ordering::Relaxed);
        meta.aux[1].store(0, Ordering::Relaxed);
        meta.set_state(State::Allocated);
        let object_size = self.object_size(run);
        // The object's bytes past `size` (and the partial granule) are kmalloc redzone.
        let redzone = if run.header().cache.load(Ordering::Relaxed) == LARGE {
            encoding::PAGE_REDZONE
        } else {
            encoding::SLAB_REDZONE
        };
        // One pass over the object's shadow: valid bytes, then the redzone after them.
        self.shadow.unpoison(object, size);
        let valid = round_up(size);
        self.shadow
            .poison(object + valid, object_size.saturating_sub(valid), redzone);
        if zero && size > 0 {
            self.arena.zero(object, size);
        }
        self.live.fetch_add(1, Ordering::Relaxed);
        Ok(object)
    }

    /// The bytes the object's cache reserves for it (Linux's `object_size`); for a
    /// large object, up to the end of its pages.
    fn object_size(&self, run: Run) -> usize {
        let h = run.header();
        match h.cache.load(Ordering::Relaxed) {
            LARGE => {
                h.pages.load(Ordering::Relaxed) as usize * PAGE_SIZE
                    - h.first.load(Ordering::Relaxed) as usize
            }
            c => self.caches[c as usize].object_size,
        }
    }

    fn alloc_slab(&self, index: usize) -> Result<usize, AllocError> {
        let cache = &self.caches[index];
        let mut state = cache.state.lock();
        if state.partial == 0 {
            let run = if state.spare != 0 {
                let spare = state.spare;
                state.spare = 0;
                self.arena.run_of(spare).expect("spare run is live")
            } else {
                let run = self
                    .arena
                    .new_run(
                        cache.pages,
                        index as u32,
                        cache.nobj,
                        cache.first,
                        cache.slot,
                    )
                    .ok_or(AllocError::OutOfMemory)?;
                self.shadow
                    .poison(run.start(), cache.pages * PAGE_SIZE, encoding::SLAB_REDZONE);
                // Thread every slot onto the run's free list, lowest address first.
                let h = run.header();
                for i in (0..cache.nobj).rev() {
                    run.meta(i)
                        .next
                        .store(h.free_head.load(Ordering::Relaxed), Ordering::Relaxed);
                    h.free_head.store(run.object(i), Ordering::Relaxed);
                }
                run
            };
            run.header().on_partial.store(1, Ordering::Relaxed);
            run.header().next_partial.store(0, Ordering::Relaxed);
            state.partial = run.start();
        }
        let run = self
            .arena
            .run_of(state.partial)
            .expect("partial run is live");
        let h = run.header();
        let object = h.free_head.load(Ordering::Relaxed);
        let i = run.index_of(object).expect("free list holds slot starts");
        h.free_head
            .store(run.meta(i).next.load(Ordering::Relaxed), Ordering::Relaxed);
        h.in_use.fetch_add(1, Ordering::Relaxed);
        if h.free_head.load(Ordering::Relaxed) == 0 {
            state.partial = h.next_partial.load(Ordering::Relaxed);
            h.on_partial.store(0, Ordering::Relaxed);
        }
        Ok(object)
    }

    fn alloc_large(&self, size: usize, align: usize) -> Result<usize, AllocError> {
        // Header page, object pages, and at least a granule-and-more of redzone after
        // the object; an alignment above a page gets spare pages to slide within.
        let align = align.max(PAGE_SIZE);
        let object_pages = (size + optimal_redzone(size).min(PAGE_SIZE)).div_ceil(PAGE_SIZE);
        let pages = 1 + object_pages + (align - PAGE_SIZE) / PAGE_SIZE;
        let run = self
            .arena
            .new_run(pages, LARGE, 1, PAGE_SIZE, PAGE_SIZE)
            .ok_or(AllocError::OutOfMemory)?;
        let object = (run.start() + PAGE_SIZE).next_multiple_of(align);
        run.header()
            .first
            .store((object - run.start()) as u32, Ordering::Relaxed);
        self.shadow
            .poison(run.start(), object - run.start(), encoding::PAGE_REDZONE);
        Ok(object)
    }

    /// Looks up the live object starting at `addr`: `Invalid` if there is none,
    /// `Double` if it is already free.
    fn live_object(&self, addr: usize) -> Result<(Run, usize, &'static ObjMeta), FreeError> {
        let run = self.arena.run_of(addr).ok_or(FreeError::Invalid)?;
        let i = run.index_of(addr).ok_or(FreeError::Invalid)?;
        let meta = run.meta(i);
        match meta.state() {
            State::Allocated => Ok((run, i, meta)),
            State::Quarantined => Err(FreeError::Double),
            // A slot that was freed and has left quarantine is still a double free
            // if it carries a free track; one never handed out is an invalid free.
            State::Free
                if meta.free_stack.load(Ordering::Relaxed) != 0
                    || meta.free_pid.load(Ordering::Relaxed) != 0 =>
            {
                Err(FreeError::Double)
            }
            State::Free => Err(FreeError::Invalid),
        }
    }

    /// The requested size of the live object at `addr`.
    pub fn usable_size(&self, addr: usize) -> Option<usize> {
        self.live_object(addr)
            .ok()
            .map(|(_, _, m)| m.size.load(Ordering::Relaxed) as usize)
    }

    /// The cache's object size for the live object at `addr` (Linux's `ksize`).
    pub fn ksize(&self, addr: usize) -> Option<usize> {
        self.live_object(addr)
            .ok()
            .map(|(run, _, _)| self.object_size(run))
    }

    /// Copies the first `len` bytes of one live object into another (realloc).
    pub fn copy(&self, dst: usize, src: usize, len: usize) {
        self.arena.copy(dst, src, len);
    }

    /// Frees the object at `addr`, recording `track`; the object goes to quarantine.
    pub fn free(&self, addr: usize, track: &Track) -> Result<(), FreeError> {
        let (run, _, meta) = self.live_object(addr)?;
        meta.free_pid.store(track.pid, Ordering::Relaxed);
        meta.free_stack.store(track.stack.0, Ordering::Relaxed);
        meta.free_info
            .store(pack_info(track.cpu, track.time_ns), Ordering::Relaxed);
        meta.set_state(State::Quarantined);
        self.live.fetch_sub(1, Ordering::Relaxed);
        let large = run.header().cache.load(Ordering::Relaxed) == LARGE;
        let value = if large {
            encoding::PAGE_FREE
        } else {
            encoding::SLAB_FREE
        };
        self.shadow
            .poison(addr, round_up(self.object_size(run)), value);
        self.quarantine_put(addr, meta, run);
        Ok(())
    }

    /// Records an aux stack for the live object containing `addr`.
    pub fn record_aux(&self, addr: usize, stack: Handle) {
        if let Some(run) = self.arena.run_of(addr) {
            let meta = run.meta(run.slot_of(addr));
            if meta.state() == State::Allocated {
                meta.aux[1].store(meta.aux[0].load(Ordering::Relaxed), Ordering::Relaxed);
                meta.aux[0].store(stack.0, Ordering::Relaxed);
            }
        }
    }

    fn footprint(&self, run: Run) -> usize {
        let h = run.header();
        match h.cache.load(Ordering::Relaxed) {
            LARGE => h.pages.load(Ordering::Relaxed) as usize * PAGE_SIZE,
            _ => h.slot.load(Ordering::Relaxed) as usize,
        }
    }

    fn quarantine_put(&self, addr: usize, meta: &ObjMeta, run: Run) {
        let max = self.quarantine_max.load(Ordering::Relaxed);
        let bytes = self.footprint(run);
        if max == 0 || bytes > max / 4 {
            // No quarantine, or an object too big for it: release at once. Its
            // shadow says freed until the slot is reused.
            self.release(addr);
            return;
        }
        let mut evicted = 0;
        {
            let mut q = self.quarantine.lock();
            meta.next.store(0, Ordering::Relaxed);
            if q.tail != 0 {
                let tail = self
                    .arena
                    .run_of(q.tail)
                    .expect("quarantined object is live");
                tail.meta(tail.slot_of(q.tail))
                    .next
                    .store(addr, Ordering::Relaxed);
            } else {
                q.head = addr;
            }
            q.tail = addr;
            q.bytes += bytes;
            // Take a batch off the head while over the bound; release it unlocked.
            if q.bytes > max {
                let mut cut = q.head;
                let mut last = 0;
                while q.bytes > max - max / 8 && cut != 0 {
                    let run = self.arena.run_of(cut).expect("quarantined object is live");
                    q.bytes -= self.footprint(run);
                    last = cut;
                    cut = run.meta(run.slot_of(cut)).next.load(Ordering::Relaxed);
                }
                evicted = q.head;
                let run = self.arena.run_of(last).expect("quarantined object is live");
                run.meta(run.slot_of(last)).next.store(0, Ordering::Relaxed);
                q.head = cut;
                if cut == 0 {
                    q.tail = 0;
                }
            }
        }
        while evicted != 0 {
            let run = self
                .arena
                .run_of(evicted)
                .expect("quarantined object is live");
            let next = run.meta(run.slot_of(evicted)).next.load(Ordering::Relaxed);
            self.release(evicted);
            evicted = next;
        }
    }

    /// Puts a freed object back on its run's free list (or its pages back).
    fn release(&self, addr: usize) {
        let run = self.arena.run_of(addr).expect("released object is live");
        let i = run.slot_of(addr);
        let meta = run.meta(i);
        meta.set_state(State::Free);
        let h = run.header();
        let cache_index = h.cache.load(Ordering::Relaxed);
        if cache_index == LARGE {
            // The object's pages are already PAGE_FREE (from `free`); the header
            // page before them becomes free too.
            self.shadow
                .poison(run.start(), addr - run.start(), encoding::PAGE_FREE);
            self.arena.free_run(run, |a, l| self.host.discard(a, l));
            return;
        }
        let cache = &self.caches[cache_index as usize];
        let mut state = cache.state.lock();
        meta.next
            .store(h.free_head.load(Ordering::Relaxed), Ordering::Relaxed);
        h.free_head.store(addr, Ordering::Relaxed);
        let in_use = h.in_use.fetch_sub(1, Ordering::Relaxed) - 1;
        if h.on_partial.load(Ordering::Relaxed) == 0 {
            h.on_partial.store(1, Ordering::Relaxed);
            h.next_partial.store(state.partial, Ordering::Relaxed);
            state.partial = run.start();
        } else if in_use == 0 && state.partial != run.start() {
            // A wholly free run that is not the current one: unlink it and keep it as
            // the spare, or give its pages back.
            let mut prev = state.partial;
            while prev != 0 {
                let p = self
                    .arena
                    .run_of(prev)
                    .expect("partial run is live")
                    .header();
                if p.next_partial.load(Ordering::Relaxed) == run.start() {
                    p.next_partial
                        .store(h.next_partial.load(Ordering::Relaxed), Ordering::Relaxed);
                    break;
                }
                prev = p.next_partial.load(Ordering::Relaxed);
            }
            h.on_partial.store(0, Ordering::Relaxed);
            if state.spare == 0 {
                state.spare = run.start();
                // Rebuild: the spare is reused as a fresh run.
            } else {
                drop(state);
                self.shadow
                    .poison(run.start(), cache.pages * PAGE_SIZE, encoding::PAGE_FREE);
                self.arena.free_run(run, |a, l| self.host.discard(a, l));
            }
        }
    }
}

impl<H: Host> Describe for Heap<H> {
    fn object(&self, addr: usize) -> Option<ObjectInfo> {
        let run = self.arena.run_of(addr)?;
        let h = run.header();
        let i = run.slot_of(addr);
        let meta = run.meta(i);
        let state = meta.state();
        let cache = h.cache.load(Ordering::Relaxed);
        let (name, backing) = match cache {
            LARGE => (
                "kmalloc-large",
                Backing::Pages(
                    (h.pages.load(Ordering::Relaxed) as usize)
                        .next_power_of_two()
                        .trailing_zeros(),
                ),
            ),
            c => (self.caches[c as usize].name, Backing::Slab),
        };
        let alloc_pid = meta.alloc_pid.load(Ordering::Relaxed);
        let alloc_stack = Handle(meta.alloc_stack.load(Ordering::Relaxed));
        let (acpu, atime) = unpack_info(meta.alloc_info.load(Ordering::Relaxed));
        let alloc = (alloc_pid != 0 || alloc_stack.is_some()).then_some(Track {
            pid: alloc_pid,
            stack: alloc_stack,
            cpu: acpu,
            time_ns: atime,
        });
        let freed = state != State::Allocated;
        let free_pid = meta.free_pid.load(Ordering::Relaxed);
        let free_stack = Handle(meta.free_stack.load(Ordering::Relaxed));
        let (fcpu, ftime) = unpack_info(meta.free_info.load(Ordering::Relaxed));
        let free = (freed && (free_pid != 0 || free_stack.is_some())).then_some(Track {
            pid: free_pid,
            stack: free_stack,
            cpu: fcpu,
            time_ns: ftime,
        });
        Some(ObjectInfo {
            cache: Name::new(name),
            object: run.object(i),
            object_size: self.object_size(run),
            backing,
            freed,
            alloc,
            free,
            aux: [
                Handle(meta.aux[0].load(Ordering::Relaxed)),
                Handle(meta.aux[1].load(Ordering::Relaxed)),
            ],
        })
    }

    fn stack_bounds(&self) -> Option<(usize, usize)> {
        None
    }
}

/// Rounds `size` up to the granule (for callers checking redzone placement).
pub const fn granule_round(size: usize) -> usize {
    size.next_multiple_of(GRANULE_SIZE)
}
