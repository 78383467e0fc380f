//! The slab heap running on the tagged region through [`TaggedPages`]: objects come
//! from alias 0 of the region, every alias sees them, and freed big runs give their
//! memory back (punched out of the memfd). The heap here is today's generic one over
//! the process-wide generic shadow (which covers the region); the tag mode's heap uses
//! the same page source and arena.
#![allow(unsafe_code)]

use std::sync::{Mutex, MutexGuard, OnceLock};

use kasan_core::report::Track;
use kasan_hosted::memory::{self, SHADOW};
use kasan_hosted::tagged::{self, TaggedHeap, TaggedPages};
use kasan_slab::{FreeKind, Heap};

static HEAP: Heap<TaggedPages> = Heap::new(TaggedPages, SHADOW);
static LOCK: Mutex<()> = Mutex::new(());

fn setup() -> (TaggedHeap, MutexGuard<'static, ()>) {
    static REGION: OnceLock<TaggedHeap> = OnceLock::new();
    let guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let h = *REGION.get_or_init(|| {
        memory::map_shadow().expect("the generic shadow maps");
        let h = tagged::init().expect("the tagged region maps");
        let (base, size) = h.arena();
        // SAFETY: alias 0 of the region: page-aligned, zeroed, ours alone, never
        // unmapped, inside user space, which the generic shadow covers.
        unsafe { HEAP.init(base, size) };
        HEAP.set_quarantine_max(0);
        h
    });
    (h, guard)
}

#[test]
fn objects_come_from_alias_zero_and_every_alias_sees_them() {
    let (h, _g) = setup();
    let track = Track::default();
    let p = HEAP.alloc(64, 8, true, &track).unwrap();
    assert!(h.contains(p));
    assert_eq!(h.tag(p), 0xF, "the allocator works on untagged addresses");
    for t in 0..16u8 {
        // SAFETY: a live 64-byte object; every alias maps it.
        unsafe { *(h.with_tag(p, t) as *mut u64).add(t as usize % 8) = t as u64 + 1 };
    }
    for i in 0..8 {
        // SAFETY: as above.
        let v = unsafe { *(h.with_tag(p, 9) as *const u64).add(i) };
        assert_eq!(v, i as u64 + 9, "word {i}");
    }
    HEAP.free(p, FreeKind::Kmalloc, &track).unwrap();
}

#[test]
fn freed_big_runs_are_punched_out_of_the_memfd() {
    let (h, _g) = setup();
    let track = Track::default();
    let len = 4 << 20;
    let p = HEAP.alloc(len, 4096, false, &track).unwrap();
    assert!(h.contains(p));
    let before = h.resident_bytes();
    for off in (0..len).step_by(4096) {
        // SAFETY: inside the live object, through alias 3.
        unsafe { *(h.with_tag(p + off, 3) as *mut u8) = 1 };
    }
    let touched = h.resident_bytes() - before;
    assert!(touched >= len, "{touched} bytes resident for {len} touched");
    HEAP.free(p, FreeKind::Kmalloc, &track).unwrap();
    let after = h.resident_bytes();
    assert!(
        after + len <= before + touched,
        "resident {after} after the free, {before} + {touched} before"
    );
    // The pages read as zero through any alias (a hole).
    // SAFETY: freed arena memory stays mapped; reading it raw is fine.
    assert_eq!(unsafe { *(h.with_tag(p + 4096, 11) as *const u8) }, 0);
}
