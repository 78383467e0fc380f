//! Unit tests of the heap on the fake platform's memory.

use kasan_core::report::{Backing, Describe, Track};
use kasan_core::shadow::encoding::*;
use kasan_core::stack::Handle;
use kasan_core::testing::FakeMemory;

use crate::heap::{optimal_redzone, KMALLOC_SIZES};
use crate::{FreeError, Heap, Host};

struct NoHost;
impl Host for NoHost {
    fn discard(&self, _addr: usize, _len: usize) {}
}

fn heap(mem: &FakeMemory, size: usize) -> Heap<NoHost> {
    let h = Heap::new(NoHost, mem.shadow());
    // SAFETY: the fake memory is page-aligned, zeroed, covered by its shadow and
    // outlives the heap in every test.
    unsafe { h.init(mem.base(), size) };
    h
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
        h.free(p, &track(2)).unwrap();
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
    assert_eq!(h.free(p + 8, &track(4)), Err(FreeError::Invalid));
    assert_eq!(h.free(mem.base() + 8, &track(4)), Err(FreeError::Invalid));
    assert_eq!(h.free(12345, &track(4)), Err(FreeError::Invalid));
    h.free(p, &track(4)).unwrap();
    assert_eq!(s.byte(p), Some(SLAB_FREE));
    assert_eq!(h.free(p, &track(5)), Err(FreeError::Double));
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
    h.free(p, &track(1)).unwrap();
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
        if live.is_empty() || !x.is_multiple_of(3) {
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
            h.free(p, &track(2)).unwrap();
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
                        h.free(p, &track(9)).unwrap();
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
}
