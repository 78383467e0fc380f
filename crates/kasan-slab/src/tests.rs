//! Unit tests of the heap on the fake platform's memory.

use kasan_core::report::{Backing, Describe, Track};
use kasan_core::shadow::encoding::*;
use kasan_core::stack::Handle;
use kasan_core::testing::FakeMemory;

use crate::heap::{optimal_redzone, KMALLOC_SIZES};
use crate::{FreeError, FreeKind, Heap, Host};

struct NoHost;
impl Host for NoHost {
    fn discard(&self, _addr: usize, _len: usize) {}
    fn protect(&self, _addr: usize, _len: usize, _accessible: bool) {}
    fn cpu(&self) -> usize {
        // Spread threads over queues by a per-thread address.
        let here = 0u8;
        (&here as *const u8 as usize) >> 16
    }
    fn map(&self, bytes: usize) -> Option<usize> {
        let layout = std::alloc::Layout::from_size_align(bytes, 4096).ok()?;
        // SAFETY: a non-zero size; the memory is never freed, as the heap expects.
        let p = unsafe { std::alloc::alloc_zeroed(layout) };
        (!p.is_null()).then_some(p as usize)
    }
}

/// Names the calling thread for the locks' re-entry detection.
fn thread_id() -> usize {
    std::thread_local!(static HERE: u8 = const { 0 });
    HERE.with(|h| h as *const u8 as usize)
}

fn heap(mem: &FakeMemory, size: usize) -> Heap<NoHost> {
    kasan_core::sync::set_context_source(thread_id);
    let h = Heap::new(NoHost, mem.shadow());
    // SAFETY: the fake memory is page-aligned, zeroed, covered by its shadow and
    // outlives the heap in every test.
    unsafe { h.init(mem.base(), size) };
    h
}

trait FreeK {
    fn free_k(&self, addr: usize, track: &Track) -> Result<(), FreeError>;
}

impl FreeK for Heap<NoHost> {
    fn free_k(&self, addr: usize, track: &Track) -> Result<(), FreeError> {
        self.free(addr, FreeKind::Kmalloc, track)
    }
}

fn track(pid: u32) -> Track {
    Track {
        pid,
        stack: Handle(0x10001 + pid),
        ..Track::default()
    }
}

#[test]
fn kmalloc_classes_redzones_and_names() {
    let mem = FakeMemory::new(64 << 20);
    let h = heap(&mem, 64 << 20);
    let s = mem.shadow();
    for size in 1..=8192usize {
        let p = h.alloc(size, 16, false, &track(1)).unwrap();
        assert_eq!(p % 16, 0);
        assert!(s.check(p, size), "size {size}");
        assert!(!s.check(p + size, 1), "size {size}");
        let o = h.object(p + size).unwrap();
        let class = KMALLOC_SIZES.iter().copied().find(|c| *c >= size).unwrap();
        let name = match class {
            1024 => "kmalloc-1k".to_string(),
            2048 => "kmalloc-2k".to_string(),
            4096 => "kmalloc-4k".to_string(),
            8192 => "kmalloc-8k".to_string(),
            c => format!("kmalloc-{c}"),
        };
        assert_eq!(o.object, p);
        assert_eq!(o.object_size, class);
        assert_eq!(o.cache.as_str(), name);
        assert_eq!(o.backing, Backing::Slab);
        assert_eq!(h.usable_size(p), Some(size));
        assert_eq!(h.ksize(p), Some(class));
        // The redzone after the object is at least Linux's optimal redzone.
        assert!(!s.check(p + class, optimal_redzone(class)));
        h.free_k(p, &track(2)).unwrap();
    }
    assert_eq!(
        h.object(h.alloc(13, 16, false, &track(1)).unwrap())
            .unwrap()
            .cache
            .as_str(),
        "kmalloc-16"
    );
    assert_eq!(
        h.object(h.alloc(4000, 16, false, &track(1)).unwrap())
            .unwrap()
            .cache
            .as_str(),
        "kmalloc-4k"
    );
}

#[test]
fn free_poisons_and_tracks_then_double_and_invalid_frees_fail() {
    let mem = FakeMemory::new(16 << 20);
    let h = heap(&mem, 16 << 20);
    h.set_quarantine_max(1 << 20);
    let s = mem.shadow();
    let p = h.alloc(40, 16, true, &track(3)).unwrap();
    assert_eq!(h.free_k(p + 8, &track(4)), Err(FreeError::Invalid));
    assert_eq!(h.free_k(mem.base() + 8, &track(4)), Err(FreeError::Invalid));
    assert_eq!(h.free_k(12345, &track(4)), Err(FreeError::Invalid));
    h.free_k(p, &track(4)).unwrap();
    assert_eq!(s.byte(p), Some(SLAB_FREE_META));
    assert_eq!(s.byte(p + 8), Some(SLAB_FREE));
    assert_eq!(h.free_k(p, &track(5)), Err(FreeError::Double));
    let o = h.object(p + 3).unwrap();
    assert!(o.freed);
    assert_eq!(o.alloc.unwrap().pid, 3);
    assert_eq!(o.free.unwrap().pid, 4);
    assert_eq!(o.free.unwrap().stack, Handle(0x10005));
    // Quarantine: the slot is not handed out again while it is held.
    for _ in 0..100 {
        assert_ne!(h.alloc(40, 16, false, &track(6)).unwrap(), p);
    }
}

#[test]
fn the_free_track_mark_goes_when_the_quarantine_lets_an_object_go() {
    let mem = FakeMemory::new(16 << 20);
    let h = heap(&mem, 16 << 20);
    let s = mem.shadow();
    // No quarantine: the object leaves at once (Linux's qlink_free writes
    // KASAN_SLAB_FREE over KASAN_SLAB_FREETRACK).
    h.set_quarantine_max(0);
    let p = h.alloc(40, 16, false, &track(1)).unwrap();
    h.free_k(p, &track(2)).unwrap();
    assert_eq!(s.byte(p), Some(SLAB_FREE));
    assert_eq!(s.byte(p + 32), Some(SLAB_FREE));
    // Page-backed objects have no such mark.
    let big = h.alloc(20000, 16, false, &track(1)).unwrap();
    h.set_quarantine_max(1 << 20);
    h.free_k(big, &track(2)).unwrap();
    assert_eq!(s.byte(big), Some(PAGE_FREE));
}

#[test]
fn object_info_describes_the_pages() {
    let mem = FakeMemory::new(16 << 20);
    let h = heap(&mem, 16 << 20);
    let p = h.alloc(40, 16, false, &track(1)).unwrap();
    let page = h.object(p).unwrap().page;
    assert_eq!(page.kind, kasan_core::report::PageKind::Slab);
    assert!(page.start <= p && p < page.start + page.pages * 4096);
    assert_eq!(page.compound, page.pages > 1);
    assert!(page.inuse >= 1 && page.objects >= page.inuse);
    let g = h
        .alloc_pages(1, crate::heap::GFP_KERNEL, false, &track(1))
        .unwrap();
    let page = h.object(g).unwrap().page;
    assert_eq!(page.kind, kasan_core::report::PageKind::Pages);
    assert_eq!((page.start, page.pages, page.compound), (g, 2, false));
    assert_eq!(page.gfp, 0xcc0);
    let big = h.alloc(10000, 16, false, &track(1)).unwrap();
    let page = h.object(big).unwrap().page;
    assert_eq!(page.kind, kasan_core::report::PageKind::LargeKmalloc);
    assert!(page.compound);
    assert_eq!(page.gfp, 0x40cc0);
}

#[test]
fn large_objects_are_page_backed() {
    let mem = FakeMemory::new(16 << 20);
    let h = heap(&mem, 16 << 20);
    let s = mem.shadow();
    let p = h.alloc(10000, 16, false, &track(1)).unwrap();
    assert_eq!(p % 4096, 0);
    assert!(s.check(p, 10000));
    assert_eq!(s.byte(p + 10000), Some(PAGE_REDZONE));
    assert_eq!(s.byte(p - 1), Some(PAGE_REDZONE));
    let o = h.object(p + 10000).unwrap();
    assert_eq!((o.object, o.backing), (p, Backing::Pages(2)));
    h.free_k(p, &track(1)).unwrap();
    assert_eq!(s.byte(p), Some(PAGE_FREE));
    let q = h.alloc(100, 65536, false, &track(1)).unwrap();
    assert_eq!(q % 65536, 0);
    let r = h.alloc(100, 128, false, &track(1)).unwrap();
    assert_eq!(r % 128, 0);
}

/// A randomized model test: random alloc/free across sizes, checking after every
/// step that shadow says exactly which bytes are valid.
#[test]
fn random_operations_match_a_byte_model() {
    let mem = FakeMemory::new(32 << 20);
    let h = heap(&mem, 32 << 20);
    h.set_quarantine_max(256 << 10);
    let s = mem.shadow();
    let mut live: Vec<(usize, usize)> = Vec::new();
    let mut freed: Vec<usize> = Vec::new();
    let mut x = 0x2545F491u64;
    for step in 0..20000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if !live.is_empty() && x % 7 == 1 {
            // Resize in place when the cache allows, as krealloc does.
            let k = (x >> 8) as usize % live.len();
            let (p, _) = live[k];
            let new = (x >> 20) as usize % 300;
            if h.resize(p, new) {
                live[k] = (p, new);
                assert!(
                    s.check(p, new) && !s.check(p + new, 1),
                    "resize at step {step}"
                );
            }
        } else if live.is_empty() || !x.is_multiple_of(3) {
            let size = match x % 10 {
                0 => (x >> 8) as usize % 20000,
                _ => (x >> 8) as usize % 300,
            };
            let p = h.alloc(size, 16, false, &track(1)).unwrap();
            assert!(
                live.iter()
                    .all(|&(q, n)| p + size.max(1) <= q || q + n.max(1) <= p),
                "overlap at step {step}"
            );
            freed.retain(|&f| f != p);
            live.push((p, size));
        } else {
            let (p, n) = live.swap_remove((x >> 8) as usize % live.len());
            assert!(s.check(p, n));
            h.free_k(p, &track(2)).unwrap();
            assert!(!s.check(p, 1));
            freed.push(p);
        }
        if step % 97 == 0 {
            for &(p, n) in &live {
                assert!(s.check(p, n), "live object invalid at step {step}");
                assert!(!s.check(p + n, 1), "redzone valid at step {step}");
                assert_eq!(h.usable_size(p), Some(n));
            }
            for &f in freed.iter().rev().take(50) {
                assert!(!s.check(f, 1), "freed object valid at step {step}");
            }
        }
    }
}

#[test]
fn threads_allocate_and_free_without_losing_objects() {
    let mem = FakeMemory::new(64 << 20);
    let h = std::sync::Arc::new(heap(&mem, 64 << 20));
    h.set_quarantine_max(1 << 20);
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let h = h.clone();
            let base = mem.base();
            std::thread::spawn(move || {
                let _ = base;
                let mut mine = Vec::new();
                for i in 0..20000usize {
                    let size = (i * 7 + t * 13) % 600;
                    mine.push((
                        h.alloc(size, 16, false, &track(t as u32 + 1)).unwrap(),
                        size,
                    ));
                    if i % 3 == 0 {
                        let (p, _) = mine.swap_remove(i % mine.len());
                        h.free_k(p, &track(9)).unwrap();
                    }
                }
                mine
            })
        })
        .collect();
    let mut all: Vec<(usize, usize)> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    all.sort();
    for w in all.windows(2) {
        assert!(w[0].0 + w[0].1 <= w[1].0, "two live objects overlap");
    }
    assert_eq!(h.stats().live_objects, all.len());
    // Every live object is still wholly valid: no thread's run set-up or release
    // poisoned another thread's objects.
    let s = mem.shadow();
    for &(p, n) in &all {
        assert!(s.check(p, n), "live object at {p:#x} ({n} bytes) poisoned");
    }
}

unsafe extern "C" fn stamp(p: *mut core::ffi::c_void) {
    // SAFETY: the heap calls constructors with a writable object of the cache.
    unsafe { *(p as *mut u32) = 0xC0FFEE };
}

#[test]
fn caches_created_used_and_destroyed() {
    use crate::cache::{SLAB_HWCACHE_ALIGN, SLAB_TYPESAFE_BY_RCU};
    use crate::DestroyError;
    let mem = FakeMemory::new(32 << 20);
    let h = heap(&mem, 32 << 20);
    h.set_quarantine_max(1 << 20);
    let s = mem.shadow();
    let c = h
        .cache_create("test_cache", 200, 0, SLAB_HWCACHE_ALIGN, Some(stamp))
        .unwrap();
    assert_eq!(h.cache_name(c.index).unwrap().as_str(), "test_cache");
    let p = h.cache_alloc(c, false, &track(1)).unwrap();
    assert_eq!(p % 64, 0);
    // The constructor ran; the object is valid to its size and no further.
    // SAFETY: `p` is a live 200-byte object of the fake memory.
    assert_eq!(unsafe { *(p as *const u32) }, 0xC0FFEE);
    assert!(s.check(p, 200) && !s.check(p + 200, 1));
    let o = h.object(p + 200).unwrap();
    assert_eq!((o.cache.as_str(), o.object_size), ("test_cache", 200));
    // A cache's object freed through another cache is an invalid free.
    let other = h.cache_create("other", 200, 0, 0, None).unwrap();
    assert_eq!(
        h.free(p, FreeKind::Cache(other.index), &track(1)),
        Err(FreeError::Invalid)
    );
    assert_eq!(h.cache_destroy(c), Err(DestroyError::LiveObjects(1)));
    h.free(p, FreeKind::Cache(c.index), &track(2)).unwrap();
    assert_eq!(
        h.free(p, FreeKind::Cache(c.index), &track(2)),
        Err(FreeError::Double)
    );
    // Destroy kills the cache; its quarantined object keeps its run (and its
    // description) until the quarantine lets it go.
    assert_eq!(h.cache_destroy(c), Ok(()));
    assert_eq!(h.cache_destroy(c), Err(DestroyError::NoCache));
    assert_eq!(
        h.cache_alloc(c, false, &track(1)),
        Err(crate::AllocError::Destroyed)
    );
    let o = h.object(p).unwrap();
    assert!(o.freed && o.cache.as_str() == "test_cache");
    assert_eq!(
        h.free(p, FreeKind::Cache(c.index), &track(2)),
        Err(FreeError::Double)
    );
    // TYPESAFE_BY_RCU: a freed object stays valid and is reused at once.
    let r = h
        .cache_create("rcu", 64, 0, SLAB_TYPESAFE_BY_RCU, None)
        .unwrap();
    let a = h.cache_alloc(r, false, &track(1)).unwrap();
    h.free(a, FreeKind::Cache(r.index), &track(1)).unwrap();
    assert!(s.check(a, 64));
    assert_eq!(h.cache_alloc(r, false, &track(1)).unwrap(), a);
    assert_eq!(
        h.free(a + 1, FreeKind::Cache(r.index), &track(1)),
        Err(FreeError::Invalid)
    );
}

#[test]
fn pages_and_vmalloc_are_their_own_allocators() {
    let mem = FakeMemory::new(32 << 20);
    let h = heap(&mem, 32 << 20);
    let s = mem.shadow();
    let pg = h
        .alloc_pages(2, crate::heap::GFP_KERNEL, true, &track(1))
        .unwrap();
    assert_eq!(pg % 4096, 0);
    assert!(s.check(pg, 4 * 4096));
    assert_eq!(
        h.free(pg, FreeKind::Kmalloc, &track(1)),
        Err(FreeError::Invalid)
    );
    assert_eq!(
        h.free(pg, FreeKind::Pages(1), &track(1)),
        Err(FreeError::Invalid)
    );
    h.free(pg, FreeKind::Pages(2), &track(1)).unwrap();
    assert_eq!(s.byte(pg), Some(PAGE_FREE));
    assert_eq!(
        h.free(pg, FreeKind::Pages(2), &track(1)),
        Err(FreeError::Double)
    );
    let v = h.alloc_vmalloc(5000, false, &track(1)).unwrap();
    assert!(s.check(v, 5000));
    assert_eq!(s.byte(v + 5000), Some(VMALLOC_INVALID));
    assert_eq!(s.byte(v + 8192), Some(VMALLOC_INVALID));
    let o = h.object(v + 5000).unwrap();
    assert!(
        matches!(o.backing, Backing::Vmalloc { start, end } if start == v && end == v + 3 * 4096)
    );
    assert_eq!(
        h.free(v, FreeKind::Kmalloc, &track(1)),
        Err(FreeError::Invalid)
    );
    h.free(v, FreeKind::Vmalloc, &track(1)).unwrap();
    assert_eq!(s.byte(v), Some(VMALLOC_INVALID));
}

#[test]
fn resize_in_place_moves_the_redzone() {
    let mem = FakeMemory::new(16 << 20);
    let h = heap(&mem, 16 << 20);
    let s = mem.shadow();
    let p = h.alloc(201, 16, false, &track(1)).unwrap();
    assert!(h.resize(p, 235));
    assert!(s.check(p, 235) && !s.check(p + 235, 1));
    assert!(h.resize(p, 100));
    assert!(s.check(p, 100) && !s.check(p + 100, 1) && !s.check(p + 201, 1));
    assert_eq!(h.usable_size(p), Some(100));
    assert!(!h.resize(p, 300));
}

#[test]
fn pooled_elements_are_poisoned_until_handed_out_again() {
    let mem = FakeMemory::new(16 << 20);
    let h = heap(&mem, 16 << 20);
    let s = mem.shadow();
    let p = h.alloc(100, 16, false, &track(1)).unwrap();
    h.pool_poison(p, FreeKind::Kmalloc, &track(2)).unwrap();
    assert_eq!(s.byte(p), Some(SLAB_FREE_META));
    assert_eq!(
        h.pool_poison(p, FreeKind::Kmalloc, &track(2)),
        Err(FreeError::Double)
    );
    assert_eq!(
        h.pool_poison(p + 1, FreeKind::Kmalloc, &track(2)),
        Err(FreeError::Invalid)
    );
    assert!(h.object(p).unwrap().freed);
    assert!(h.pool_unpoison(p, &track(3)));
    assert!(s.check(p, 100) && !s.check(p + 100, 1));
    assert!(!h.pool_unpoison(p, &track(3)));
}

#[test]
fn quarantine_is_bounded_and_releases_the_oldest() {
    let mem = FakeMemory::new(64 << 20);
    let h = heap(&mem, 64 << 20);
    h.set_quarantine_max(256 << 10);
    let mut first = Vec::new();
    for _ in 0..64 {
        first.push(h.alloc(500, 16, false, &track(1)).unwrap());
    }
    for &p in &first {
        h.free(p, FreeKind::Kmalloc, &track(1)).unwrap();
    }
    // Churn far past the bound: the quarantine stays near it.
    for _ in 0..20000 {
        let p = h.alloc(100, 16, false, &track(1)).unwrap();
        h.free(p, FreeKind::Kmalloc, &track(1)).unwrap();
    }
    let held = h.stats().quarantine_bytes;
    assert!(held <= 256 << 10, "held {held}");
    assert!(held >= 64 << 10, "held {held}");
    // The first objects (another cache's) left long ago: their slots are reused.
    let again: Vec<usize> = (0..64)
        .map(|_| h.alloc(500, 16, false, &track(1)).unwrap())
        .collect();
    assert!(first.iter().any(|p| again.contains(p)));
}

/// With a live-heap bound the quarantine follows the heap: half of a 4 MiB live set
/// (not the 32 MiB `max`), never below the floor; without it, `max`.
#[test]
fn quarantine_follows_the_live_heap() {
    let held_after_churn = |percent: usize, floor: usize| {
        let mem = FakeMemory::new(96 << 20);
        let h = heap(&mem, 96 << 20);
        h.set_quarantine_max(32 << 20);
        h.set_quarantine_live_bound(percent, floor);
        // 4 MiB live: 1024 objects of 4 KiB.
        let live: Vec<usize> = (0..1024)
            .map(|_| h.alloc(4096, 16, false, &track(1)).unwrap())
            .collect();
        // 64 MiB of churn.
        for _ in 0..(64 << 20) / 1024 {
            let p = h.alloc(1024, 16, false, &track(1)).unwrap();
            h.free(p, FreeKind::Kmalloc, &track(1)).unwrap();
        }
        let held = h.stats().quarantine_bytes;
        assert_eq!(live.len(), 1024);
        held
    };
    let old = held_after_churn(0, 0);
    assert!(
        old > 24 << 20 && old <= 32 << 20,
        "no live bound: held {old}"
    );
    let half = held_after_churn(50, 1 << 20);
    // Half of the live heap (4 MiB and the slabs around it), with a batch of slack.
    assert!(
        (1 << 20..=4 << 20).contains(&half),
        "50% of live: held {half}"
    );
    let floored = held_after_churn(50, 8 << 20);
    assert!(
        floored > 6 << 20 && floored <= 8 << 20,
        "floor 8 MiB: held {floored}"
    );
}

#[test]
fn free_runs_merge_with_free_neighbours_and_the_bump() {
    use crate::pages::{Arena, RunShape};
    let mem = FakeMemory::new(16 << 20);
    let arena = Arena::new();
    // SAFETY: the fake memory is page-aligned, zeroed and used by nothing else.
    unsafe { arena.init(mem.base(), 16 << 20) };
    let run = |pages| arena.new_run(RunShape::block(pages), 0, |_, _| {}).unwrap();
    let bump0 = arena.bump();
    let (a, b, c, d) = (run(3), run(5), run(70), run(1));
    assert_eq!(b.start(), a.start() + 3 * 4096);
    assert_eq!(c.start(), b.start() + 5 * 4096);
    // a and c are free; freeing b makes one free run of 78 pages.
    arena.free_run(a, |_, _| {}, |_, _| {});
    arena.free_run(c, |_, _| {}, |_, _| {});
    assert!(arena.run_of(a.start()).is_none() && arena.run_of(c.start() + 4096).is_none());
    arena.free_run(b, |_, _| {}, |_, _| {});
    let big = run(78);
    assert_eq!(
        big.start(),
        a.start(),
        "the three merged runs are reused whole"
    );
    // A smaller request is cut from a larger free run; the rest stays usable.
    arena.free_run(big, |_, _| {}, |_, _| {});
    let small = run(2);
    assert_eq!(small.start(), a.start());
    let rest = run(76);
    assert_eq!(rest.start(), a.start() + 2 * 4096);
    // Runs freed at the end of the used space give it back to the bump.
    arena.free_run(d, |_, _| {}, |_, _| {});
    arena.free_run(rest, |_, _| {}, |_, _| {});
    arena.free_run(small, |_, _| {}, |_, _| {});
    assert_eq!(arena.bump(), bump0);
    // Growing and freeing a large block again and again does not move the bump up.
    for round in 0..20 {
        let mut blocks = Vec::new();
        let mut pages = 1;
        while pages <= 512 {
            blocks.push(run(pages));
            if blocks.len() > 1 {
                let old = blocks.remove(0);
                arena.free_run(old, |_, _| {}, |_, _| {});
            }
            pages *= 2;
        }
        for b in blocks {
            arena.free_run(b, |_, _| {}, |_, _| {});
        }
        assert_eq!(arena.bump(), bump0, "round {round}");
    }
}

#[test]
fn aligned_runs_leave_the_pages_they_skip_free() {
    use crate::pages::{Arena, RunShape};
    const P: usize = 4096;
    let mem = FakeMemory::new(64 << 20);
    let arena = Arena::new();
    // SAFETY: the fake memory is page-aligned, zeroed and used by nothing else.
    unsafe { arena.init(mem.base(), 64 << 20) };
    let fresh = std::cell::RefCell::new(Vec::new());
    let aligned = |pages, align| {
        arena
            .new_run_aligned(RunShape::block(pages), 0, align, |a, l| {
                fresh.borrow_mut().push((a, a + l))
            })
            .unwrap()
    };
    let used = || arena.used_pages.load(std::sync::atomic::Ordering::Relaxed);
    let bump0 = arena.bump();
    // From the bump: the object (after the header page) lands on a 1 MiB boundary,
    // the run is only its own pages, and the skipped pages are a free run below it
    // that was marked as never-used memory.
    let a = aligned(3, 1 << 20);
    assert_eq!((a.start() + P) % (1 << 20), 0);
    assert_eq!(arena.bump(), a.start() + 3 * P);
    assert_eq!(used(), 3);
    let skipped = (bump0, a.start());
    if skipped.1 > skipped.0 {
        assert!(
            fresh
                .borrow()
                .iter()
                .any(|&(x, y)| x <= skipped.0 && y >= skipped.1),
            "the skipped pages {skipped:x?} were marked: {:x?}",
            fresh.borrow()
        );
    }
    // A page-aligned run fits into the pages the alignment skipped.
    let small = arena.new_run(RunShape::block(2), 0, |_, _| {}).unwrap();
    assert_eq!(small.start(), bump0);
    // An aligned run cut from the middle of a free run: both sides stay free and
    // are reused whole.
    arena.free_run(small, |_, _| {}, |_, _| {});
    let wide = arena.new_run(RunShape::block(200), 0, |_, _| {}).unwrap();
    arena.free_run(wide, |_, _| {}, |_, _| {});
    let b = aligned(4, 64 * P);
    assert_eq!((b.start() + P) % (64 * P), 0);
    assert!(b.start() >= wide.start() && b.start() + 4 * P <= wide.start() + 200 * P);
    // The pages on either side are free (in no run), and nothing was lost: once
    // everything is freed it all merges back into the never-used space.
    assert!(arena.run_of(b.start() + 4 * P).is_none());
    assert!(b.start() == wide.start() || arena.run_of(b.start() - P).is_none());
    arena.free_run(a, |_, _| {}, |_, _| {});
    arena.free_run(b, |_, _| {}, |_, _| {});
    // Everything merged back: the bump is where it started, nothing is in use.
    assert_eq!((arena.bump(), used()), (bump0, 0));
}

#[test]
fn withdrawn_pages_leave_the_arena_until_restored() {
    use crate::pages::{Arena, RunShape, WithdrawError};
    const P: usize = 4096;
    let mem = FakeMemory::new(16 << 20);
    let arena = Arena::new();
    // SAFETY: the fake memory is page-aligned, zeroed and used by nothing else.
    unsafe { arena.init(mem.base(), 16 << 20) };
    let run = |pages| arena.new_run(RunShape::block(pages), 0, |_, _| {}).unwrap();
    let bump0 = arena.bump();
    let (a, b, c) = (run(10), run(1), run(3));
    // Live pages and the head map are refused, and nothing changes.
    assert_eq!(
        arena.withdraw(b.start(), b.start() + P, |_, _| {}),
        Err(WithdrawError::Live(b.start()))
    );
    assert_eq!(
        arena.withdraw(a.start() - P, a.start() + P, |_, _| {}),
        Err(WithdrawError::Metadata)
    );
    arena.free_run(a, |_, _| {}, |_, _| {});
    // Pages 3..6 of the free 10-page run: refused while they reach into b.
    assert_eq!(
        arena.withdraw(a.start() + 3 * P, b.start() + P, |_, _| {}),
        Err(WithdrawError::Live(b.start()))
    );
    arena
        .withdraw(a.start() + 3 * P, a.start() + 6 * P, |_, _| {})
        .unwrap();
    // Withdrawing them again is allowed (a mapping over the program's own mapping).
    arena
        .withdraw(a.start() + 4 * P, a.start() + 5 * P, |_, _| {})
        .unwrap();
    assert!(arena.run_of(a.start() + 3 * P).is_none());
    assert!(arena.any_withdrawn(a.start(), a.start() + 4 * P));
    assert!(!arena.any_withdrawn(a.start(), a.start() + 3 * P));
    // The pages around them stay free: 3 on the left, 4 on the right, and are handed
    // out; no run ever covers a withdrawn page.
    let left = run(3);
    assert_eq!(left.start(), a.start());
    let right = run(4);
    assert_eq!(right.start(), a.start() + 6 * P);
    let other = run(3);
    assert!(
        other.start() >= c.start() + 3 * P,
        "not the withdrawn pages"
    );
    // Withdrawing past the bump moves it; the never-used gap is free and marked.
    let top = arena.bump();
    let mut fresh = Vec::new();
    arena
        .withdraw(top + 2 * P, top + 5 * P, |a, l| fresh.push((a, l)))
        .unwrap();
    assert_eq!(arena.bump(), top + 5 * P);
    let gap = run(2);
    assert_eq!(
        gap.start(),
        top,
        "the gap below a withdrawn range is a free run"
    );
    // Restoring gives the pages back, merged with free neighbours and the bump.
    let mut stretches = Vec::new();
    assert!(arena.restore(a.start(), a.start() + 10 * P, |s, m| stretches.push((s, m))));
    assert_eq!(
        stretches,
        vec![(
            (a.start() + 3 * P, a.start() + 6 * P),
            (a.start() + 3 * P, a.start() + 6 * P)
        )]
    );
    assert!(!arena.any_withdrawn(a.start(), a.start() + 10 * P));
    let back = run(3);
    assert_eq!(back.start(), a.start() + 3 * P);
    assert!(arena.restore(top + 2 * P, top + 5 * P, |_, _| {}));
    for r in [left, right, back, b, c, other, gap] {
        arena.free_run(r, |_, _| {}, |_, _| {});
    }
    assert_eq!(arena.bump(), bump0, "everything merged back into the bump");
}

#[test]
fn heap_withdraw_unpoisons_and_restore_poisons_as_free_pages() {
    let mem = FakeMemory::new(64 << 20);
    let h = heap(&mem, 64 << 20);
    h.set_quarantine_max(0);
    let s = mem.shadow();
    let p = h.alloc(1 << 20, 4096, false, &track(1)).unwrap();
    let live = h.withdraw(p, p + 4096);
    assert!(
        matches!(live, Err(crate::WithdrawError::Live(_))),
        "{live:?}"
    );
    assert!(s.check(p, 4096), "a refused withdraw changes no shadow");
    h.free_k(p, &track(2)).unwrap();
    assert!(!s.check(p, 1));
    h.withdraw(p, p + 8192).unwrap();
    assert!(s.check(p, 8192), "the program's own mapping is accessible");
    // New blocks never land on it.
    let q = h.alloc(1 << 20, 4096, false, &track(3)).unwrap();
    assert!(q >= p + 8192 || q + (1 << 20) <= p, "{q:#x} over {p:#x}");
    assert!(h.restore(p, p + 8192));
    assert!(!s.check(p, 1), "free pages again");
    assert_eq!(h.object(p).map(|o| o.object), None);
    h.free_k(q, &track(4)).unwrap();
}

#[test]
fn the_cache_table_grows_past_its_first_segment() {
    use crate::cache::FIRST_SEGMENT;
    let mem = FakeMemory::new(256 << 20);
    let h = heap(&mem, 256 << 20);
    h.set_quarantine_max(0);
    let n = 3 * FIRST_SEGMENT + 100;
    let caches: Vec<_> = (0..n)
        .map(|i| {
            h.cache_create(&format!("c{i}"), 24 + i % 50, 0, 0, None)
                .unwrap()
        })
        .collect();
    let mut indexes: Vec<u32> = caches.iter().map(|c| c.index).collect();
    indexes.sort_unstable();
    indexes.dedup();
    assert_eq!(indexes.len(), n, "every cache has a slot of its own");
    assert!(indexes[n - 1] as usize >= 3 * FIRST_SEGMENT);
    let objects: Vec<usize> = caches
        .iter()
        .map(|&c| h.cache_alloc(c, false, &track(1)).unwrap())
        .collect();
    for (i, (&c, &p)) in caches.iter().zip(&objects).enumerate() {
        let o = h.object(p).unwrap();
        assert_eq!(o.cache.as_str(), format!("c{i}"));
        assert_eq!(o.object_size, 24 + i % 50);
        h.free(p, FreeKind::Cache(c.index), &track(1)).unwrap();
    }
    for &c in &caches {
        h.cache_destroy(c).unwrap();
    }
    // Destroyed slots are reused, and a stale id never reaches the new cache.
    let again = h.cache_create("again", 40, 0, 0, None).unwrap();
    assert_eq!(again.index, caches[0].index);
    assert_ne!(again.generation, caches[0].generation);
    assert_eq!(
        h.cache_alloc(caches[0], false, &track(1)),
        Err(crate::AllocError::Destroyed)
    );
    assert!(h.cache_alloc(again, false, &track(1)).is_ok());
}

#[test]
fn destroy_leaves_quarantined_objects_to_the_quarantine() {
    let mem = FakeMemory::new(64 << 20);
    let h = heap(&mem, 64 << 20);
    h.set_quarantine_max(4 << 20);
    // A full quarantine of kmalloc objects; destroying caches does not go through it.
    for _ in 0..40000 {
        let p = h.alloc(100, 16, false, &track(1)).unwrap();
        h.free(p, FreeKind::Kmalloc, &track(1)).unwrap();
    }
    let pages_before = h.stats().pages;
    let c = h.cache_create("q", 300, 0, 0, None).unwrap();
    let objs: Vec<usize> = (0..50)
        .map(|_| h.cache_alloc(c, false, &track(1)).unwrap())
        .collect();
    for &p in &objs {
        h.free(p, FreeKind::Cache(c.index), &track(2)).unwrap();
    }
    h.cache_destroy(c).unwrap();
    // The quarantined objects are still described as freed objects of "q".
    let o = h.object(objs[0] + 3).unwrap();
    assert!(o.freed && o.cache.as_str() == "q");
    assert_eq!(o.free.unwrap().pid, 2);
    // Churn: the quarantine releases them, their runs go back, the slot is reused.
    for _ in 0..100000 {
        let p = h.alloc(100, 16, false, &track(1)).unwrap();
        h.free(p, FreeKind::Kmalloc, &track(1)).unwrap();
    }
    assert!(h.object(objs[0]).is_none_or(|o| o.cache.as_str() != "q"));
    // The slot is free again only once the last of the cache's runs went back.
    assert_eq!(h.cache_create("r", 300, 0, 0, None).unwrap().index, c.index);
    // And the heap did not grow with the churn: kmalloc-128's wholly free runs go
    // back and new ones come as the quarantine's batches leave (five 5-page runs
    // either way).
    assert!(
        h.stats().pages <= pages_before + 25,
        "{} pages, {pages_before} before",
        h.stats().pages
    );
}

#[test]
fn destroy_racing_alloc_and_free_never_corrupts() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let mem = FakeMemory::new(128 << 20);
    let h = heap(&mem, 128 << 20);
    h.set_quarantine_max(1 << 20);
    let keep = h.alloc(64, 16, false, &track(9)).unwrap();
    // SAFETY: a live 64-byte object of the fake memory.
    unsafe { core::ptr::write_bytes(keep as *mut u8, 0x5a, 64) };
    for round in 0..30 {
        let c = h.cache_create("race", 48 + round, 0, 0, None).unwrap();
        let stop = AtomicBool::new(false);
        std::thread::scope(|sc| {
            for t in 0..3 {
                let (h, stop) = (&h, &stop);
                sc.spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        match h.cache_alloc(c, false, &track(t)) {
                            Ok(p) => {
                                // SAFETY: a live object of at least 48 bytes.
                                unsafe { core::ptr::write_bytes(p as *mut u8, t as u8, 48) };
                                h.free(p, FreeKind::Cache(c.index), &track(t)).unwrap();
                            }
                            Err(e) => {
                                assert_eq!(e, crate::AllocError::Destroyed);
                                break;
                            }
                        }
                    }
                });
            }
            // Destroy until it is accepted (objects may be live at each try).
            loop {
                match h.cache_destroy(c) {
                    Ok(()) => break,
                    Err(crate::DestroyError::LiveObjects(_)) => std::thread::yield_now(),
                    Err(e) => panic!("{e:?}"),
                }
            }
            stop.store(true, Ordering::Relaxed);
        });
        assert_eq!(h.cache_destroy(c), Err(crate::DestroyError::NoCache));
    }
    // SAFETY: still live.
    let bytes = unsafe { core::slice::from_raw_parts(keep as *const u8, 64) };
    assert!(bytes.iter().all(|&b| b == 0x5a));
    assert_eq!(h.stats().live_objects, 1);
}

#[test]
fn nested_calls_never_wait_on_locks_this_thread_holds() {
    let mem = FakeMemory::new(64 << 20);
    let h = heap(&mem, 64 << 20);
    h.set_quarantine_max(1 << 20);
    let c = h.cache_create("nest", 64, 0, 0, None).unwrap();
    let a = h.cache_alloc(c, false, &track(1)).unwrap();
    let b = h.alloc(64, 16, false, &track(1)).unwrap();
    // As a signal handler would find it: this thread inside the cache's lock.
    h.with_cache_locked(c.index, || {
        assert_eq!(
            h.cache_alloc(c, false, &track(2)),
            Err(crate::AllocError::Busy)
        );
        assert_eq!(h.cache_destroy(c), Err(crate::DestroyError::Busy));
        // Other caches still serve.
        let k = h.alloc(32, 16, false, &track(2)).unwrap();
        h.free(k, FreeKind::Kmalloc, &track(2)).unwrap();
        // A free goes through; its object is not lost (released later).
        h.free(a, FreeKind::Cache(c.index), &track(2)).unwrap();
    });
    // Inside the arena's lock: allocations needing pages fail, frees are kept.
    h.with_arena_locked(|| {
        assert_eq!(
            h.alloc(1 << 20, 16, false, &track(3)),
            Err(crate::AllocError::Busy)
        );
        h.free(b, FreeKind::Kmalloc, &track(3)).unwrap();
    });
    let big = h.alloc(1 << 20, 16, false, &track(3)).unwrap();
    h.free(big, FreeKind::Kmalloc, &track(3)).unwrap();
    // Inside a quarantine queue's lock, a free uses another queue.
    h.with_quarantine_locked(|| {
        let k = h.alloc(32, 16, false, &track(4)).unwrap();
        h.free(k, FreeKind::Kmalloc, &track(4)).unwrap();
    });
    // Everything is still consistent: the cache drains its deferred object and is
    // destroyed once the quarantine lets its objects go.
    h.set_quarantine_max(0);
    let x = h.cache_alloc(c, false, &track(5)).unwrap();
    h.free(x, FreeKind::Cache(c.index), &track(5)).unwrap();
    assert_eq!(h.cache_destroy(c), Ok(()));
}

// ---- Tag mode (software tag-based KASAN, Linux's sw-tags rules) ----

mod tags {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use kasan_core::mode::{Mode, Ring};
    use kasan_core::report::{Backing, Describe, Track};
    use kasan_core::stack::{Handle, SaveFlags, StackDepot};
    use kasan_core::sw_tags::{SwTags, TagCarrier, TopBitsCarrier, X86_64};
    use kasan_core::testing::{FakePools, FakeRing, FakeTagMemory, FAKE_CARRIER};

    use super::thread_id;
    use crate::cache::SLAB_TYPESAFE_BY_RCU;
    use crate::heap::CacheId;
    use crate::{AllocError, FreeError, FreeKind, Heap, Host};

    const INVALID: u8 = X86_64.invalid;

    /// A host whose `put_stack` goes to a depot.
    struct TagHost {
        depot: &'static StackDepot,
    }

    impl Host for TagHost {
        fn discard(&self, _addr: usize, _len: usize) {}
        fn protect(&self, _addr: usize, _len: usize, _accessible: bool) {}
        fn cpu(&self) -> usize {
            0
        }
        fn map(&self, bytes: usize) -> Option<usize> {
            let layout = std::alloc::Layout::from_size_align(bytes, 4096).ok()?;
            // SAFETY: a non-zero size; the memory is never freed, as the heap expects.
            let p = unsafe { std::alloc::alloc_zeroed(layout) };
            (!p.is_null()).then_some(p as usize)
        }
        fn put_stack(&self, stack: Handle) {
            self.depot.put(stack);
        }
    }

    type TagHeap = Heap<TagHost, SwTags<TopBitsCarrier>>;

    struct Fixture {
        heap: TagHeap,
        ring: &'static FakeRing,
        depot: &'static StackDepot,
        // Last: the heap's memory outlives it.
        _mem: FakeTagMemory,
    }

    fn fixture(size: usize, ring_cap: usize) -> Fixture {
        kasan_core::sync::set_context_source(thread_id);
        let mem = FakeTagMemory::new(size);
        let depot: &'static StackDepot = Box::leak(Box::new(StackDepot::new()));
        let ring: &'static FakeRing = Box::leak(Box::new(FakeRing::new(depot, ring_cap)));
        let mode = SwTags::new(mem.shadow(FAKE_CARRIER, X86_64), ring as &dyn Ring);
        mode.tags.seed(0x5eed);
        let heap = Heap::with_mode(TagHost { depot }, mode);
        // SAFETY: the fake memory is page-aligned, zeroed, covered by its tag shadow
        // and outlives the heap (field order of `Fixture`).
        unsafe { heap.init(mem.base(), size) };
        Fixture {
            heap,
            ring,
            depot,
            _mem: mem,
        }
    }

    fn tag(p: usize) -> u8 {
        FAKE_CARRIER.tag(p)
    }

    fn untag(p: usize) -> usize {
        FAKE_CARRIER.untag(p)
    }

    fn t(pid: u32) -> Track {
        Track {
            pid,
            ..Track::default()
        }
    }

    fn kfree(h: &TagHeap, p: usize) -> Result<(), FreeError> {
        h.free(p, FreeKind::Kmalloc, &t(9))
    }

    fn mem_tag(h: &TagHeap, addr: usize) -> Option<u8> {
        h.mode().shadow.tag_at(addr)
    }

    #[test]
    fn a_reused_slot_never_gets_its_previous_tag() {
        let f = fixture(8 << 20, 16);
        let h = &f.heap;
        let mut prev = h.alloc(32, 16, false, &t(1)).unwrap();
        kfree(h, prev).unwrap();
        let mut seen = [0u32; 16];
        for _ in 0..1_000_000 {
            let p = h.alloc(32, 16, false, &t(1)).unwrap();
            // No quarantine: the same slot at once, with another tag.
            assert_eq!(untag(p), untag(prev));
            assert_ne!(tag(p), tag(prev));
            assert!(tag(p) <= X86_64.max);
            seen[tag(p) as usize] += 1;
            kfree(h, p).unwrap();
            prev = p;
        }
        assert!(seen[..14].iter().all(|&n| n > 50_000), "{seen:?}");
        assert_eq!(seen[14] + seen[15], 0);
        assert_eq!(h.stats().quarantine_bytes, 0);
    }

    #[test]
    fn neighbouring_live_objects_get_different_tags() {
        let f = fixture(8 << 20, 16);
        let h = &f.heap;
        for size in [16usize, 32, 64, 128] {
            let ptrs: Vec<usize> = (0..500)
                .map(|_| h.alloc(size, 16, false, &t(1)).unwrap())
                .collect();
            let mut adjacent = 0;
            for w in ptrs.windows(2) {
                if untag(w[1]) == untag(w[0]) + size {
                    adjacent += 1;
                    assert_ne!(tag(w[0]), tag(w[1]), "size {size}");
                    // An overflow by one granule always reaches a mismatching tag.
                    assert!(!h.mode().check(w[0] + size, 1));
                }
            }
            assert!(adjacent > 400, "slots sit back to back: {adjacent}");
            for p in ptrs {
                kfree(h, p).unwrap();
            }
        }
    }

    static CTOR_SAW: AtomicUsize = AtomicUsize::new(0);

    unsafe extern "C" fn ctor(p: *mut core::ffi::c_void) {
        CTOR_SAW.store(p as usize, Ordering::Relaxed);
        // SAFETY: the heap hands the constructor an object of its cache (tagged;
        // the test's carrier needs the tag taken off before a store).
        unsafe { *(untag(p as usize) as *mut u64) = 0xC0FFEE };
    }

    #[test]
    fn ctor_and_rcu_caches_keep_each_slots_tag() {
        let f = fixture(8 << 20, 64);
        let h = &f.heap;
        let with_ctor = h.cache_create("ctor", 48, 0, 0, Some(ctor)).unwrap();
        let rcu = h
            .cache_create("rcu", 48, 0, SLAB_TYPESAFE_BY_RCU, None)
            .unwrap();
        let plain = h.cache_create("plain", 48, 0, 0, None).unwrap();
        for (cache, keeps) in [(with_ctor, true), (rcu, true), (plain, false)] {
            let first = h.cache_alloc(cache, false, &t(1)).unwrap();
            assert!(tag(first) <= X86_64.max);
            let mut same = 0;
            for _ in 0..50 {
                h.free(first, FreeKind::Cache(cache.index), &t(2)).unwrap();
                let again = h.cache_alloc(cache, false, &t(1)).unwrap();
                assert_eq!(untag(again), untag(first));
                same += usize::from(again == first);
                if !keeps {
                    h.free(again, FreeKind::Cache(cache.index), &t(2)).unwrap();
                    let third = h.cache_alloc(cache, false, &t(1)).unwrap();
                    assert_ne!(tag(third), tag(again));
                    h.free(third, FreeKind::Cache(cache.index), &t(2)).unwrap();
                    let next = h.cache_alloc(cache, false, &t(1)).unwrap();
                    assert_eq!(untag(next), untag(first));
                    h.free(next, FreeKind::Cache(cache.index), &t(2)).unwrap();
                    break;
                }
            }
            if keeps {
                assert_eq!(same, 50, "the slot's tag is kept");
            }
        }
        // The constructor ran with the pointer the program later gets.
        let p = h.cache_alloc(with_ctor, false, &t(1)).unwrap();
        let seen = CTOR_SAW.load(Ordering::Relaxed);
        assert!(tag(seen) <= X86_64.max);
        // SAFETY: `p` is a live object of 48 bytes.
        assert_eq!(unsafe { *(untag(p) as *const u64) }, 0xC0FFEE);
        // An RCU object stays readable after its free (no poison), a ctor one does not.
        let r = h.cache_alloc(rcu, false, &t(1)).unwrap();
        h.free(r, FreeKind::Cache(rcu.index), &t(2)).unwrap();
        assert!(h.mode().check(r, 48));
        h.free(p, FreeKind::Cache(with_ctor.index), &t(2)).unwrap();
        assert!(!h.mode().check(p, 1));
        // Linux records nothing for a TYPESAFE_BY_RCU free.
        let events: Vec<_> = f
            .ring
            .entries()
            .into_iter()
            .filter(|e| e.tagged == r)
            .collect();
        assert_eq!(events.iter().filter(|e| e.is_free).count(), 0);
    }

    #[test]
    fn double_and_invalid_frees_are_decided_by_tag_first() {
        let f = fixture(8 << 20, 64);
        let h = &f.heap;
        // Clean twin: alloc/free pairs never fail.
        for _ in 0..100 {
            let p = h.alloc(40, 16, false, &t(1)).unwrap();
            assert_eq!(kfree(h, p), Ok(()));
        }
        let p = h.alloc(40, 16, false, &t(1)).unwrap();
        assert_eq!(
            kfree(h, p + 16),
            Err(FreeError::Invalid),
            "not an object start"
        );
        assert_eq!(kfree(h, 0x1234), Err(FreeError::Invalid), "wild");
        assert_eq!(
            h.free(p, FreeKind::Pages(0), &t(1)),
            Err(FreeError::Invalid),
            "another allocator"
        );
        assert_eq!(kfree(h, p), Ok(()));
        assert_eq!(kfree(h, p), Err(FreeError::Double));
        // The slot is reused with a new tag: the stale pointer's free is a double free
        // and leaves the new object alone.
        let q = h.alloc(40, 16, false, &t(1)).unwrap();
        assert_eq!(untag(q), untag(p));
        assert_ne!(tag(q), tag(p));
        assert_eq!(kfree(h, p), Err(FreeError::Double));
        assert_eq!(h.usable_size(q), Some(40));
        assert!(h.mode().check(q, 40));
        assert_eq!(
            h.usable_size(p),
            None,
            "the stale pointer names no live object"
        );
        // A pointer carrying another random tag: double free too (Linux: the byte is
        // not accessible through it).
        let other = FAKE_CARRIER.with_tag(q, (tag(q) + 1) % 14);
        assert_eq!(kfree(h, other), Err(FreeError::Double));
        assert_eq!(kfree(h, q), Ok(()));
        // The match-all pointer of a freed slot: the state decides (freed once).
        assert_eq!(kfree(h, untag(q)), Err(FreeError::Double));
        // kmalloc(0): no accessible byte, yet its own pointer frees it.
        let z = h.alloc(0, 16, false, &t(1)).unwrap();
        assert!(!h.mode().check(z, 1));
        assert_eq!(kfree(h, z), Ok(()));
        assert_eq!(kfree(h, z), Err(FreeError::Double));
    }

    #[test]
    fn kmalloc_krealloc_and_ksize_layouts() {
        let f = fixture(8 << 20, 64);
        let h = &f.heap;
        // No kmalloc-8: the smallest class is the granule.
        let tiny = h.alloc(1, 16, false, &t(1)).unwrap();
        assert_eq!(h.object(tiny).unwrap().cache.as_str(), "kmalloc-16");
        assert_eq!(h.ksize(tiny), Some(16));
        // kmalloc(40) in kmalloc-64: three granules with the tag, one invalid.
        let p = h.alloc(40, 16, true, &t(1)).unwrap();
        let o = untag(p);
        let tg = tag(p);
        assert_eq!(mem_tag(h, o), Some(tg));
        assert_eq!(mem_tag(h, o + 32), Some(tg));
        assert_eq!(mem_tag(h, o + 48), Some(INVALID));
        assert!(h.mode().check(p, 48), "no short granules");
        assert!(!h.mode().check(p + 48, 1));
        assert_eq!(h.usable_size(p), Some(40));
        assert_eq!(h.ksize(p), Some(64));
        let info = h.object(p + 3).unwrap();
        assert_eq!(info.object, o, "descriptions are untagged");
        assert_eq!(info.object_size, 64);
        assert_eq!(
            (info.alloc, info.free),
            (None, None),
            "slab tracks are the ring's"
        );
        // krealloc in place: the tag stays, the valid part follows the size.
        assert!(h.resize(p, 60));
        assert!(h.mode().check(p, 64));
        assert!(h.resize_tracked(p, 10, &t(3)));
        assert!(h.mode().check(p, 16) && !h.mode().check(p + 16, 1));
        assert_eq!(h.usable_size(p), Some(10));
        assert!(!h.resize(p, 65), "does not fit");
        let ring = f.ring.entries();
        let last = ring.last().unwrap();
        assert_eq!(
            (last.tagged, last.size, last.is_free, last.track.pid),
            (p, 64, false, 3)
        );
        // ksize's unpoison makes the whole object valid.
        assert_eq!(h.ksize_unpoison(p), Some(64));
        assert!(h.mode().check(p, 64) && !h.mode().check(p + 64, 1));
        // realloc moves: a new object, the old pointer dead.
        let q = h.alloc(100, 16, false, &t(1)).unwrap();
        h.copy(q, p, 10);
        kfree(h, p).unwrap();
        assert!(!h.mode().check(p, 1));
        assert!(h.mode().check(q, 100));
        // The ring saw alloc, realloc, free of `p` in order.
        let mine: Vec<(bool, u32)> = f
            .ring
            .entries()
            .into_iter()
            .filter(|e| e.tagged == p)
            .map(|e| (e.is_free, e.track.pid))
            .collect();
        assert_eq!(mine, vec![(false, 1), (false, 3), (true, 9)]);
        assert_eq!(tg, tag(p));
    }

    #[test]
    fn large_pages_vmalloc_and_mempool_have_one_tag_per_block() {
        let f = fixture(16 << 20, 64);
        let h = &f.heap;
        let before = f.ring.entries().len();
        // Large kmalloc: one tag, tail invalid to the end of its pages, the header
        // page invalid.
        let l = h.alloc(10_000, 16, false, &t(1)).unwrap();
        assert!(tag(l) <= X86_64.max);
        assert!(h.mode().check(l, 10_000));
        assert!(!h.mode().check(l + 10_000, 1));
        assert_eq!(mem_tag(h, untag(l) + 3 * 4096 - 16), Some(INVALID));
        assert_eq!(mem_tag(h, untag(l) - 16), Some(INVALID));
        let info = h.object(l).unwrap();
        assert!(matches!(info.backing, Backing::Pages(_)));
        assert_eq!(
            info.alloc.map(|a| a.pid),
            Some(1),
            "page-backed keeps its track"
        );
        kfree(h, l).unwrap();
        assert!(!h.mode().check(l, 1));
        assert_eq!(kfree(h, l), Err(FreeError::Double));
        // Pages: every byte of the block.
        let pg = h.alloc_pages(1, 0, true, &t(1)).unwrap();
        assert!(h.mode().check(pg, 8192));
        assert!(!h.mode().check(pg + 8192, 1));
        assert_eq!(
            h.free(pg, FreeKind::Pages(0), &t(2)),
            Err(FreeError::Invalid)
        );
        h.free(pg, FreeKind::Pages(1), &t(2)).unwrap();
        assert!(!h.mode().check(pg, 1));
        // vmalloc: the tail of the last page and the guard page invalid.
        let v = h.alloc_vmalloc(5000, false, &t(1)).unwrap();
        assert!(h.mode().check(v, 5008));
        assert!(!h.mode().check(v + 5008, 1));
        assert_eq!(mem_tag(h, untag(v) + 8192), Some(INVALID), "guard page");
        h.free(v, FreeKind::Vmalloc, &t(2)).unwrap();
        assert!(!h.mode().check(v, 1));
        // Pages and vmalloc are never recorded in the ring.
        assert_eq!(f.ring.entries().len(), before);
        // Mempool: poisoned while pooled, back with the same tag.
        let e = h.alloc(100, 16, false, &t(1)).unwrap();
        h.pool_poison(e, FreeKind::Kmalloc, &t(2)).unwrap();
        assert!(!h.mode().check(e, 1));
        assert_eq!(kfree(h, e), Err(FreeError::Double));
        assert_eq!(
            h.pool_poison(e, FreeKind::Kmalloc, &t(2)),
            Err(FreeError::Double)
        );
        assert!(h.pool_unpoison(e, &t(3)));
        assert!(h.mode().check(e, 112) && !h.mode().check(e + 112, 1));
        assert!(!h.pool_unpoison(e, &t(3)), "not pooled any more");
        let kinds: Vec<(bool, u32)> = f
            .ring
            .entries()
            .into_iter()
            .filter(|x| x.tagged == e)
            .map(|x| (x.is_free, x.track.pid))
            .collect();
        assert_eq!(kinds, vec![(false, 1), (true, 2), (false, 3)]);
        // A pooled large element keeps its tag too.
        let big = h.alloc(9000, 16, false, &t(1)).unwrap();
        h.pool_poison(big, FreeKind::Kmalloc, &t(2)).unwrap();
        assert!(!h.mode().check(big, 1));
        assert!(h.pool_unpoison(big, &t(3)));
        assert!(h.mode().check(big, 9000) && !h.mode().check(big + 9008, 1));
        kfree(h, big).unwrap();
        kfree(h, e).unwrap();
    }

    fn stack(f: &Fixture, n: usize) -> Track {
        let frames = [0x4000 + n, 0x5000, 0x6000 + n * 8];
        let stack = f
            .depot
            .save_flags(&frames, SaveFlags::CAN_ALLOC | SaveFlags::GET, &FakePools);
        assert!(stack.is_some());
        Track {
            pid: n as u32,
            stack,
            ..Track::default()
        }
    }

    #[test]
    fn every_track_is_consumed_exactly_once() {
        let f = fixture(16 << 20, 8);
        let h = &f.heap;
        let base = f.depot.stats();
        let mut n = 0;
        let mut tr = || {
            n += 1;
            stack(&f, n)
        };
        // Slab alloc/free, errors, caches.
        let p = h.alloc(40, 16, false, &tr()).unwrap();
        h.free(p, FreeKind::Kmalloc, &tr()).unwrap();
        assert_eq!(h.free(p, FreeKind::Kmalloc, &tr()), Err(FreeError::Double));
        assert_eq!(
            h.free(p + 1, FreeKind::Kmalloc, &tr()),
            Err(FreeError::Invalid)
        );
        assert_eq!(h.alloc(40, 3, false, &tr()), Err(AllocError::Invalid));
        let c = h.cache_create("own", 24, 0, 0, None).unwrap();
        let o = h.cache_alloc(c, true, &tr()).unwrap();
        h.free(o, FreeKind::Cache(c.index), &tr()).unwrap();
        h.cache_destroy(c).unwrap();
        assert_eq!(h.cache_alloc(c, false, &tr()), Err(AllocError::Destroyed));
        let gone = CacheId {
            index: 4000,
            generation: 1,
        };
        assert!(h.cache_alloc(gone, false, &tr()).is_err());
        let rcu = h
            .cache_create("rcu", 24, 0, SLAB_TYPESAFE_BY_RCU, None)
            .unwrap();
        let r = h.cache_alloc(rcu, false, &tr()).unwrap();
        h.free(r, FreeKind::Cache(rcu.index), &tr()).unwrap();
        // krealloc, mempool, aux.
        let k = h.alloc(100, 16, false, &tr()).unwrap();
        assert!(h.resize_tracked(k, 50, &tr()));
        assert!(!h.resize_tracked(k, 500, &tr()));
        h.pool_poison(k, FreeKind::Kmalloc, &tr()).unwrap();
        assert!(h.pool_unpoison(k, &tr()));
        assert!(!h.pool_unpoison(k, &tr()));
        h.record_aux(k, tr().stack);
        h.free(k, FreeKind::Kmalloc, &tr()).unwrap();
        // Page-backed: kept while allocated, put when the block goes.
        let l = h.alloc(20_000, 16, false, &tr()).unwrap();
        let kept = f.depot.stats().in_use;
        h.pool_poison(l, FreeKind::Kmalloc, &tr()).unwrap();
        assert!(h.pool_unpoison(l, &tr()));
        assert_eq!(
            f.depot.stats().in_use,
            kept,
            "the pool's new track replaced the old"
        );
        h.free(l, FreeKind::Kmalloc, &tr()).unwrap();
        assert_eq!(h.free(l, FreeKind::Kmalloc, &tr()), Err(FreeError::Double));
        let pg = h.alloc_pages(2, 0, false, &tr()).unwrap();
        assert_eq!(h.alloc_pages(99, 0, false, &tr()), Err(AllocError::Invalid));
        h.free(pg, FreeKind::Pages(2), &tr()).unwrap();
        let v = h.alloc_vmalloc(3000, false, &tr()).unwrap();
        assert_eq!(h.alloc_vmalloc(0, false, &tr()), Err(AllocError::Invalid));
        h.free(v, FreeKind::Vmalloc, &tr()).unwrap();
        // Many slab events through a ring of 8: overwritten entries put theirs.
        for _ in 0..100 {
            let p = h.alloc(64, 16, false, &tr()).unwrap();
            h.free(p, FreeKind::Kmalloc, &tr()).unwrap();
        }
        assert!(f.depot.stats().in_use <= base.in_use + 8);
        f.ring.clear();
        let end = f.depot.stats();
        assert_eq!(end.in_use, base.in_use);
        assert_eq!(end.bad_puts, 0, "no handle was put twice");
        assert_eq!(n, 230, "tracks handed to the heap");
    }
}

/// The runtime's shape: a tag-mode heap as a `static`, its region and shadow set at
/// start-up (kasan-rt's `TAGS_HEAP`).
mod late_static {
    use kasan_core::mode::{Mode, Ring, RingFind};
    use kasan_core::report::Track;
    use kasan_core::sw_tags::{LateAliasCarrier, SwTags, TagCarrier, TagShadow, X86_64};

    use crate::{FreeKind, Heap, Host};

    struct Quiet;
    impl Host for Quiet {
        fn discard(&self, _addr: usize, _len: usize) {}
        fn protect(&self, _addr: usize, _len: usize, _accessible: bool) {}
        fn cpu(&self) -> usize {
            0
        }
        fn map(&self, _bytes: usize) -> Option<usize> {
            None
        }
    }

    struct NoRing;
    impl Ring for NoRing {
        fn record(&self, _: usize, _: u32, _: bool, _: &Track, _: usize) {}
        fn find(&self, _: usize, _: u32) -> RingFind {
            RingFind::default()
        }
    }

    static RING: NoRing = NoRing;
    static TAGS_HEAP: Heap<Quiet, SwTags<LateAliasCarrier>> = Heap::with_mode(
        Quiet,
        SwTags::new(
            // SAFETY: an empty range promises no shadow byte.
            unsafe { TagShadow::new(0, 0, 0, LateAliasCarrier::new(20, 0xF), X86_64) },
            &RING,
        ),
    );

    #[test]
    fn a_const_built_tag_heap_works_once_its_region_is_set() {
        kasan_core::sync::set_context_source(super::thread_id);
        // A fake region of 16 aliases of 1 MiB (only alias 0 is used: the heap never
        // dereferences a tagged pointer), aligned to the whole region.
        let size = 1 << 20;
        let layout = std::alloc::Layout::from_size_align(16 << 20, 16 << 20).unwrap();
        // SAFETY: a non-zero size; leaked, as the static heap outlives the test.
        let mem = unsafe { std::alloc::alloc_zeroed(layout) } as usize;
        let shadow = vec![0u8; (size >> 4) + 1].leak().as_ptr() as usize;
        let mode = TAGS_HEAP.mode();
        mode.shadow.carrier().set_base(mem);
        // SAFETY: one shadow byte per granule of `[mem, mem + size)`, leaked.
        unsafe {
            mode.shadow
                .set_range(shadow.wrapping_sub(mem >> 4), mem, mem + size)
        };
        // SAFETY: the memory is page-aligned, zeroed, covered and never freed.
        unsafe { TAGS_HEAP.init(mem, size) };
        let p = TAGS_HEAP.alloc(24, 16, false, &Track::default()).unwrap();
        let c = mode.shadow.carrier();
        assert!(c.tag(p) <= X86_64.max);
        assert_eq!(c.untag(p) & !((1 << 20) - 1), mem);
        assert_eq!(p - c.untag(p), usize::from(c.tag(p) ^ 0xF) << 20);
        assert!(mode.check(p, 24) && !mode.check(p + 32, 1));
        TAGS_HEAP
            .free(p, FreeKind::Kmalloc, &Track::default())
            .unwrap();
        assert!(!mode.check(p, 1));
    }
}

// ---- Per-CPU magazines ----

/// A host that names a different CPU at each call, as if every thread migrated
/// between every two allocator calls: objects flow between all the magazines.
struct Migrating;

static NEXT_CPU: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl FreeK for Heap<Migrating> {
    fn free_k(&self, addr: usize, track: &Track) -> Result<(), FreeError> {
        self.free(addr, FreeKind::Kmalloc, track)
    }
}

impl Host for Migrating {
    fn discard(&self, _addr: usize, _len: usize) {}
    fn protect(&self, _addr: usize, _len: usize, _accessible: bool) {}
    fn cpu(&self) -> usize {
        NEXT_CPU.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 3
    }
    fn map(&self, bytes: usize) -> Option<usize> {
        NoHost.map(bytes)
    }
}

#[test]
fn a_double_free_of_an_object_in_a_magazine_is_reported() {
    let mem = FakeMemory::new(16 << 20);
    let h = heap(&mem, 16 << 20);
    let s = mem.shadow();
    // No quarantine: the freed object goes straight to this CPU's magazine.
    h.set_quarantine_max(0);
    let p = h.alloc(40, 16, false, &track(1)).unwrap();
    h.free_k(p, &track(2)).unwrap();
    assert!(h.in_magazine(p));
    assert_eq!(s.byte(p), Some(SLAB_FREE));
    assert_eq!(h.free_k(p, &track(3)), Err(FreeError::Double));
    assert_eq!(
        h.free(p, FreeKind::Cache(2), &track(3)),
        Err(FreeError::Invalid)
    );
    let o = h.object(p).unwrap();
    assert!(o.freed);
    assert_eq!(o.free.unwrap().pid, 2);
    // Handed out again from the magazine (newest first), it is live once more.
    let q = h.alloc(40, 16, false, &track(4)).unwrap();
    assert_eq!(q, p);
    assert!(!h.in_magazine(p));
    assert!(s.check(q, 40));
    h.free_k(q, &track(5)).unwrap();
    let (in_use, held, mags) = h.slab_census();
    assert_eq!(in_use, held + mags);
}

#[test]
fn a_nested_call_holding_its_magazines_uses_the_shared_path() {
    let mem = FakeMemory::new(16 << 20);
    let h = heap(&mem, 16 << 20);
    h.set_quarantine_max(0);
    let a = h.alloc(100, 16, false, &track(1)).unwrap();
    h.with_magazines_locked(|| {
        // As a signal handler inside a magazine operation finds it.
        let b = h.alloc(100, 16, false, &track(2)).unwrap();
        h.free_k(b, &track(2)).unwrap();
        h.free_k(a, &track(2)).unwrap();
        assert_eq!(h.free_k(a, &track(2)), Err(FreeError::Double));
        assert_eq!(h.free_k(b, &track(2)), Err(FreeError::Double));
    });
    // Both went back to their run's free list, not to a magazine.
    assert!(!h.in_magazine(a));
    let (in_use, held, mags) = h.slab_census();
    assert_eq!((in_use, held, mags), (0, 0, 0));
}

#[test]
fn threads_through_migrating_magazines_lose_and_share_nothing() {
    use std::sync::{Arc, Mutex};
    let mem = FakeMemory::new(256 << 20);
    kasan_core::sync::set_context_source(thread_id);
    let h = Heap::new(Migrating, mem.shadow());
    // SAFETY: as in `heap`.
    unsafe { h.init(mem.base(), 256 << 20) };
    let h = Arc::new(h);
    h.set_quarantine_max(256 << 10);
    // Objects one thread hands to another to free (remote frees).
    let handoff: Arc<Mutex<Vec<(usize, usize, u64)>>> = Arc::new(Mutex::new(Vec::new()));
    let stamp_ok = |p: usize, n: usize, stamp: u64| {
        // SAFETY: a live object of at least `n` bytes.
        n < 8 || unsafe { (p as *const u64).read_unaligned() } == stamp
    };
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            let (h, handoff) = (h.clone(), handoff.clone());
            std::thread::spawn(move || {
                let mut mine: Vec<(usize, usize, u64)> = Vec::new();
                let mut x = 0x9E37_79B9_7F4A_7C15u64 ^ t;
                for i in 0..40_000u64 {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let size = match x % 16 {
                        0 => (x >> 8) as usize % 8192,
                        _ => (x >> 8) as usize % 300,
                    };
                    let p = h.alloc(size, 16, false, &track(t as u32 + 1)).unwrap();
                    let stamp = (t << 56) | i;
                    if size >= 8 {
                        // SAFETY: `p` is ours, `size` bytes.
                        unsafe { (p as *mut u64).write_unaligned(stamp) };
                    }
                    mine.push((p, size, stamp));
                    if mine.len() > 64 {
                        let victim = mine.swap_remove((x >> 32) as usize % mine.len());
                        if x.is_multiple_of(4) {
                            handoff.lock().unwrap().push(victim);
                        } else {
                            assert!(stamp_ok(victim.0, victim.1, victim.2), "object shared");
                            h.free_k(victim.0, &track(9)).unwrap();
                        }
                    }
                    if i % 64 == 0 {
                        let theirs = core::mem::take(&mut *handoff.lock().unwrap());
                        for (p, n, st) in theirs {
                            assert!(stamp_ok(p, n, st), "object shared");
                            h.free_k(p, &track(10)).unwrap();
                        }
                    }
                }
                mine
            })
        })
        .collect();
    let mut live: Vec<(usize, usize, u64)> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    live.extend(core::mem::take(&mut *handoff.lock().unwrap()));
    live.sort();
    for w in live.windows(2) {
        assert!(w[0].0 + w[0].1 <= w[1].0, "two live objects overlap");
    }
    for &(p, n, st) in &live {
        assert!(stamp_ok(p, n, st), "object shared");
        assert!(mem.shadow().check(p, n), "live object poisoned");
    }
    assert_eq!(h.stats().live_objects, live.len());
    let (in_use, held, mags) = h.slab_census();
    assert!(mags > 0, "the magazines were used");
    assert_eq!(in_use, held + mags, "an object was lost");
    for &(p, _, _) in &live {
        h.free_k(p, &track(11)).unwrap();
    }
    assert_eq!(h.stats().live_objects, 0);
    let (in_use, held, mags) = h.slab_census();
    assert_eq!(in_use, held + mags, "an object was lost");
}

/// Without `kasan.extra_info` (the default; no test turns it on) a slab run keeps no
/// CPU and time per object, and its header is that much smaller; a page-backed block
/// keeps them (page_owner's `ts`), after its metadata and inside its header page.
#[test]
fn only_page_blocks_keep_cpu_and_time_without_extra_info() {
    use crate::cache::CacheConfig;
    use crate::pages::{header_size, Arena, ObjInfo, ObjMeta, RunShape, PAGE_SIZE};
    let c = CacheConfig::new("info-test", 16, 0, 0, None, true).unwrap();
    assert!(!c.info);
    assert_eq!(
        c.first,
        header_size(c.nobj, false).next_multiple_of(PAGE_SIZE)
    );
    assert!(header_size(c.nobj, true) - header_size(c.nobj, false) == c.nobj * 16);
    assert_eq!(core::mem::size_of::<ObjMeta>(), 40);
    assert_eq!(core::mem::size_of::<ObjInfo>(), 16);

    let mem = FakeMemory::new(4 << 20);
    let arena = Arena::new();
    // SAFETY: the fake memory is page-aligned, zeroed and used by nothing else.
    unsafe { arena.init(mem.base(), 4 << 20) };
    let slab = arena.new_run(c.shape(), 0, |_, _| {}).unwrap();
    assert!(slab.info(0).is_none());
    let block = arena.new_run(RunShape::block(3), 0, |_, _| {}).unwrap();
    let info = block
        .info(0)
        .expect("a page-backed block keeps its ObjInfo");
    let at = info as *const ObjInfo as usize;
    // Right after the header and the block's one metadata entry (the free map
    // follows them).
    assert_eq!(
        at,
        block.start()
            + core::mem::size_of::<crate::pages::RunHeader>()
            + core::mem::size_of::<ObjMeta>()
    );
    assert!(at + 16 <= block.start() + PAGE_SIZE);
}

/// The quarantine's batches: objects leave oldest first across many batches, every
/// object comes back exactly once, and the batches of evicted lists are reused (the
/// pool maps a bounded amount however long the churn).
#[test]
fn quarantine_batches_release_oldest_first_and_are_reused() {
    use crate::pages::Arenas;
    use crate::quarantine::{Ahead, Owner, Quarantine};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    struct Recorder {
        released: Mutex<Vec<usize>>,
        maps: AtomicUsize,
        asked: AtomicUsize,
    }
    impl Owner for Recorder {
        fn map(&self, bytes: usize) -> Option<usize> {
            self.maps.fetch_add(1, Ordering::Relaxed);
            let layout = std::alloc::Layout::from_size_align(bytes, 4096).ok()?;
            // SAFETY: a non-zero size; never freed, as the quarantine expects.
            let p = unsafe { std::alloc::alloc_zeroed(layout) };
            (!p.is_null()).then_some(p as usize)
        }
        fn ahead(&self, _obj: usize, _stage: Ahead) {
            self.asked.fetch_add(1, Ordering::Relaxed);
        }
        fn release(&self, obj: usize) {
            self.released.lock().unwrap().push(obj);
        }
    }
    let owner = Recorder {
        released: Mutex::new(Vec::new()),
        maps: AtomicUsize::new(0),
        asked: AtomicUsize::new(0),
    };
    let q = Quarantine::new();
    let arenas = Arenas::new();
    // 64 KiB of 16-byte objects: 4096 held, several batches (509 each).
    q.set_max(64 << 10);
    let n = 200_000usize;
    for i in 1..=n {
        q.put(i * 16, 16, 0, &arenas, &owner);
    }
    let released = owner.released.lock().unwrap().clone();
    let held = q.bytes() / 16;
    assert_eq!(
        released.len() + held,
        n,
        "every object is held or released once"
    );
    // The bound, plus what the CPU's own queue holds (at most 1/32 of it).
    assert!((2048..=4096 + 128).contains(&held), "held {held}");
    assert!(
        released.windows(2).all(|w| w[0] < w[1]),
        "objects leave oldest first"
    );
    assert_eq!(released[0], 16);
    // Far fewer batches than objects went through: evicted lists' batches are reused.
    let maps = owner.maps.load(Ordering::Relaxed);
    assert!(maps <= 4, "{maps} chunks of 16 batches mapped");
    assert!(owner.asked.load(Ordering::Relaxed) > released.len());
}

/// With a vmalloc space but no on-demand shadow (`kasan.vmalloc_shadow=always`), a
/// freed area's addresses still wait for the lazy purge, as Linux's vmap layer purges
/// lazily with or without vmalloc shadow: a stale pointer finds freed shadow, not a
/// new area. An aligned area is a run of its own pages only (header, page, guard),
/// wherever the alignment puts it.
#[test]
fn vmalloc_areas_wait_for_the_purge_and_aligned_ones_take_only_their_pages() {
    let mem = FakeMemory::new(64 << 20);
    let h = heap(&mem, 32 << 20);
    let vbase = mem.base() + (32 << 20);
    // SAFETY: the upper half of the fake memory, unused by the main arena, before any
    // vmalloc.
    unsafe { h.init_vmalloc(vbase, 32 << 20, true) };
    let s = mem.shadow();
    let a = h.alloc_vmalloc(4096, false, &track(1)).unwrap();
    assert!(a >= vbase);
    h.free(a, FreeKind::Vmalloc, &track(1)).unwrap();
    let b = h.alloc_vmalloc(4096, false, &track(1)).unwrap();
    assert_ne!(
        a, b,
        "a freed area's addresses are not reused before the purge"
    );
    assert!(!s.check(a, 1), "the freed area's shadow stays poisoned");
    h.free(b, FreeKind::Vmalloc, &track(1)).unwrap();
    h.purge_vmalloc();
    let c = h.alloc_vmalloc(4096, false, &track(1)).unwrap();
    assert_eq!(c, a, "after the purge the addresses are reused");
    let pages = h.stats().pages;
    let d = h
        .alloc_vmalloc_aligned(4096, 1 << 20, false, &track(1))
        .unwrap();
    assert_eq!(d % (1 << 20), 0);
    assert_eq!(
        h.stats().pages - pages,
        3,
        "header, the page and the guard page"
    );
    h.free(d, FreeKind::Vmalloc, &track(1)).unwrap();
    h.free(c, FreeKind::Vmalloc, &track(1)).unwrap();
}

/// An eviction releases kmalloc objects into the magazines under one hold of a CPU
/// slot (`Heap::release_in`) and everything else by the ordinary path: objects of
/// every kind leave the quarantine, none is lost, the live count stays exact, an
/// evicted object is free to the program (a second free is refused) and its
/// slot is reused, and the shadow of each says what it is.
#[test]
fn evictions_release_every_kind_of_object_and_lose_none() {
    use crate::FreeError;
    let mem = FakeMemory::new(64 << 20);
    let h = heap(&mem, 64 << 20);
    h.set_quarantine_max(256 << 10);
    let s = mem.shadow();
    let c = h.cache_create("evict_cache", 72, 0, 0, None).unwrap();
    let mut kmalloc = Vec::new();
    let mut cached = Vec::new();
    let mut large = Vec::new();
    for i in 0..600 {
        kmalloc.push(h.alloc(24 + i % 200, 8, false, &track(1)).unwrap());
        if i % 3 == 0 {
            cached.push(h.cache_alloc(c, false, &track(1)).unwrap());
        }
        if i % 50 == 0 {
            large.push(h.alloc(20 << 10, 8, false, &track(1)).unwrap());
        }
    }
    let live = h.stats().live_objects;
    assert_eq!(live, kmalloc.len() + cached.len() + large.len());
    // Freed in an interleaved order, so evictions meet every kind in a row.
    for i in 0..600 {
        h.free(kmalloc[i], FreeKind::Kmalloc, &track(2)).unwrap();
        if i % 3 == 0 {
            h.free(cached[i / 3], FreeKind::Cache(c.index), &track(2))
                .unwrap();
        }
        if i % 50 == 0 {
            h.free(large[i / 50], FreeKind::Kmalloc, &track(2)).unwrap();
        }
    }
    // Churn until every one of them has left the quarantine.
    for _ in 0..20000 {
        let p = h.alloc(3000, 8, false, &track(3)).unwrap();
        h.free(p, FreeKind::Kmalloc, &track(3)).unwrap();
    }
    assert_eq!(h.stats().live_objects, 0);
    for &p in &kmalloc {
        assert!(
            !s.check(p, 1),
            "an evicted object at {p:#x} reads accessible"
        );
        // Free in a run its class kept, or in one made since in the pages a wholly
        // free run gave back: a double free; in pages no run holds now: invalid-free
        // (Linux's kfree finds no slab there). Never a free that succeeds.
        let got = h.free(p, FreeKind::Kmalloc, &track(4));
        assert!(
            matches!(got, Err(FreeError::Double | FreeError::Invalid)),
            "an evicted object at {p:#x} is not free: {got:?}"
        );
    }
    // Their slots come back to the program.
    let again: Vec<usize> = (0..600)
        .map(|i| h.alloc(24 + i % 200, 8, false, &track(5)).unwrap())
        .collect();
    assert!(again.iter().filter(|p| kmalloc.contains(p)).count() > 300);
    let again_cached: Vec<usize> = (0..200)
        .map(|_| h.cache_alloc(c, false, &track(5)).unwrap())
        .collect();
    assert!(again_cached.iter().any(|p| cached.contains(p)));
    assert_eq!(h.stats().live_objects, 800);
    for &p in &again {
        assert!(s.check(p, 24));
    }
}

/// A quarantined slab object counts what it holds: its slot, its metadata outside
/// the slot and its batch entry (before, the slot alone, so the quarantine held
/// half as much again as its bound); a page-backed one its pages.
#[test]
fn quarantined_objects_count_their_slot_metadata_and_batch_entry() {
    let mem = FakeMemory::new(32 << 20);
    let h = heap(&mem, 32 << 20);
    h.set_quarantine_max(16 << 20);
    let objs: Vec<usize> = (0..100)
        .map(|_| h.alloc(30, 8, false, &track(1)).unwrap())
        .collect();
    for &p in &objs {
        h.free(p, FreeKind::Kmalloc, &track(1)).unwrap();
    }
    let slot = 32 + optimal_redzone(32);
    let each = slot + core::mem::size_of::<crate::pages::ObjMeta>() + core::mem::size_of::<usize>();
    assert_eq!(h.stats().quarantine_bytes, 100 * each);
    let big = h.alloc(20 << 10, 8, false, &track(1)).unwrap();
    h.free(big, FreeKind::Kmalloc, &track(1)).unwrap();
    let pages = h.stats().quarantine_bytes - 100 * each;
    assert!(pages.is_multiple_of(4096) && pages > 20 << 10, "{pages}");
}

/// Runs find an object's index by a multiply (`RunHeader::div_slot`): it equals the
/// division for every slot size the caches make (each kmalloc class with its
/// redzone, odd cache sizes, up to 32 MiB) at the offsets around each slot boundary
/// of a run, and for random pairs of 32-bit values.
#[test]
fn slot_index_by_multiply_equals_the_division() {
    use crate::pages::{recip_div, slot_recip};
    let mut slots: Vec<u32> = (2..5000).collect();
    slots.extend([
        24,
        48,
        96,
        192,
        4096 + 64,
        65535,
        1 << 20,
        (32 << 20) + 4096,
        u32::MAX,
    ]);
    for &slot in &slots {
        let r = slot_recip(slot);
        for k in [0u64, 1, 2, 15, 16, 1000, 4096, 65535] {
            for d in [-1i64, 0, 1] {
                let off = (k * u64::from(slot)) as i64 + d;
                let Ok(off) = u32::try_from(off) else {
                    continue;
                };
                assert_eq!(recip_div(r, off), (off / slot) as usize, "{off} / {slot}");
            }
        }
    }
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..200_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let (off, slot) = (x as u32, ((x >> 32) as u32).max(2));
        assert_eq!(
            recip_div(slot_recip(slot), off),
            (off / slot) as usize,
            "{off} / {slot}"
        );
    }
}

/// The live-heap bound reads what live objects hold (`Heap::counted_bytes`), not the
/// pages in runs: runs kept by one live object each (or by quarantined objects) are
/// not live heap. 100 runs of 4 KiB objects, each kept by its first object, hold
/// ~7 MiB of pages for 0.4 MiB of live objects: the quarantine stays at its 1 MiB
/// floor, where the pages would have allowed half of 7 MiB.
#[test]
fn the_live_bound_counts_live_objects_not_the_pages_their_runs_keep() {
    let mem = FakeMemory::new(96 << 20);
    let h = heap(&mem, 96 << 20);
    h.set_quarantine_max(32 << 20);
    h.set_quarantine_live_bound(50, 1 << 20);
    let per_run = crate::cache::CacheConfig::new("t", 4096, 0, 0, None, true)
        .unwrap()
        .nobj;
    let objs: Vec<usize> = (0..100 * per_run)
        .map(|_| h.alloc(4096, 16, false, &track(1)).unwrap())
        .collect();
    let footprint = 4096 + optimal_redzone(4096) + core::mem::size_of::<crate::pages::ObjMeta>();
    assert_eq!(h.counted_bytes(), objs.len() * footprint);
    for (i, &p) in objs.iter().enumerate() {
        if i % per_run != 0 {
            h.free(p, FreeKind::Kmalloc, &track(2)).unwrap();
        }
    }
    for _ in 0..(16 << 20) / 1024 {
        let p = h.alloc(1000, 16, false, &track(3)).unwrap();
        h.free(p, FreeKind::Kmalloc, &track(3)).unwrap();
    }
    assert!(h.stats().pages * 4096 > 6 << 20, "the runs are kept");
    let held = h.stats().quarantine_bytes;
    assert!(held <= 1 << 20, "held {held}: the bound followed the pages");
    assert!(held > 1 << 19, "held {held}");
    // The quarantined objects are counted until they leave; what is left is the
    // first object of each run.
    let q = h.stats().quarantine_bytes;
    assert!(h.counted_bytes() >= 100 * footprint + q - q / 10);
}

#[test]
fn wholly_free_runs_do_not_pile_up_behind_the_current_one() {
    let mem = FakeMemory::new(16 << 20);
    let h = heap(&mem, 16 << 20);
    // No quarantine: each free reaches its run at once.
    h.set_quarantine_max(0);
    let c = h.cache_create("runs", 64, 0, 0, None).unwrap();
    let kind = FreeKind::Cache(c.index);
    // Three full runs, grouped by the page count each allocation leaves.
    let base = h.stats().pages;
    let mut runs: Vec<Vec<usize>> = Vec::new();
    let mut pages_per_run = 0;
    loop {
        let before = h.stats().pages;
        let p = h.cache_alloc(c, false, &track(1)).unwrap();
        if h.stats().pages != before {
            pages_per_run = h.stats().pages - before;
            runs.push(Vec::new());
        }
        runs.last_mut().unwrap().push(p);
        if runs.len() == 3 && runs[2].len() == runs[0].len() {
            break;
        }
    }
    assert_eq!(h.stats().pages, base + 3 * pages_per_run);
    // Each run empties in turn, the next one taking its place in front: the first
    // becomes the class's spare, the second goes back to the arena, the third stays
    // as the current run.
    for run in &runs {
        for &p in run {
            h.free(p, kind, &track(2)).unwrap();
        }
    }
    assert_eq!(h.stats().pages, base + 2 * pages_per_run);
    // The clean twin: a run emptied while it is the current one stays, and the
    // spare is used before a new run is made.
    let again: Vec<usize> = (0..2 * runs[0].len())
        .map(|_| h.cache_alloc(c, false, &track(3)).unwrap())
        .collect();
    assert_eq!(h.stats().pages, base + 2 * pages_per_run);
    for &p in &again {
        assert!(h.object(p).is_some_and(|o| !o.freed));
        h.free(p, kind, &track(4)).unwrap();
    }
    assert!(h.stats().pages <= base + 2 * pages_per_run);
    assert_eq!(h.stats().live_objects, 0);
    h.cache_destroy(c).unwrap();
    assert_eq!(h.stats().pages, base);
}
