//! What is particular to generic mode (8-byte granules, shadow values that say why a
//! granule is bad): the [`Generic`] mode's allocator hooks (redzones, quarantine marks,
//! tracks in object metadata) and turning a bad access into Linux's bug-type string.

use crate::mode::{BlockKind, FreeCheck, Mode, ReportMode, RingFind, TagPolicy};
use crate::report::{ObjectInfo, Track};
use crate::shadow::{encoding::*, round_up, Shadow, GRANULE_SIZE};

/// The size of a page, below which a wild address is a NULL dereference.
pub const PAGE_SIZE: usize = 4096;

/// Linux's generic `get_bug_type` for an access of `size` bytes at `addr`, whose
/// first bad address is `first_bad`.
pub fn bug_type(shadow: &Shadow, addr: usize, size: usize, first_bad: usize) -> &'static str {
    if addr.checked_add(size).is_none() {
        return "out-of-bounds";
    }
    if !shadow.has_metadata(addr) {
        return wild_type(shadow, addr);
    }
    let mut value = shadow.byte(first_bad).unwrap_or(0);
    // A partial granule is not the reason: the granule after it is.
    if (1..=7).contains(&value) {
        value = shadow.byte(first_bad + 8).unwrap_or(0);
    }
    match value {
        0..=7 => "out-of-bounds",
        PAGE_REDZONE | SLAB_REDZONE => "slab-out-of-bounds",
        GLOBAL_REDZONE => "global-out-of-bounds",
        STACK_LEFT | STACK_MID | STACK_RIGHT | STACK_PARTIAL => "stack-out-of-bounds",
        PAGE_FREE => "use-after-free",
        SLAB_FREE | SLAB_FREE_META => "slab-use-after-free",
        ALLOCA_LEFT | ALLOCA_RIGHT => "alloca-out-of-bounds",
        VMALLOC_INVALID => "vmalloc-out-of-bounds",
        USER_POISON => "use-after-poison",
        _ => "unknown-crash",
    }
}

/// The type of an access to memory without shadow: the first page is a NULL
/// dereference, anything else is wild.
pub fn wild_type(shadow: &Shadow, addr: usize) -> &'static str {
    if addr < PAGE_SIZE {
        "null-ptr-deref"
    } else if addr < shadow.range().0 {
        "user-memory-access"
    } else {
        "wild-memory-access"
    }
}

/// Generic KASAN: 1/8 shadow whose values say why a granule is bad, redzones after
/// slab objects, the quarantine, and alloc/free tracks in per-object metadata.
#[derive(Debug, Clone, Copy)]
pub struct Generic {
    /// The shadow.
    pub shadow: Shadow,
}

/// The match-all tag generic mode reports for every pointer.
pub const GENERIC_TAG: u8 = 0xFF;

impl Generic {
    /// The shadow value of the redzone after a live block of `kind`.
    const fn redzone(kind: BlockKind) -> u8 {
        match kind {
            BlockKind::Vmalloc => VMALLOC_INVALID,
            BlockKind::Pages => PAGE_FREE,
            BlockKind::Large => PAGE_REDZONE,
            BlockKind::Slab => SLAB_REDZONE,
        }
    }

    /// `size` valid bytes at `object`, then `redzone` up to `object_size`.
    fn unpoison_with_redzone(&self, object: usize, size: usize, object_size: usize, redzone: u8) {
        // One pass over the object's shadow: valid bytes, then the redzone after them.
        self.shadow.unpoison(object, size);
        let valid = round_up(size);
        self.shadow
            .poison(object + valid, object_size.saturating_sub(valid), redzone);
    }
}

impl Mode for Generic {
    const NAME: &'static str = "generic";
    const GRANULE: usize = GRANULE_SIZE;
    const REDZONES: bool = true;
    const QUARANTINE: bool = true;
    const OBJECT_TRACKS: bool = true;
    const MIN_KMALLOC: usize = 8;

    #[inline(always)]
    fn untag(&self, tagged: usize) -> usize {
        tagged
    }

    #[inline(always)]
    fn tag_of(&self, _tagged: usize) -> u8 {
        GENERIC_TAG
    }

    #[inline(always)]
    fn check(&self, addr: usize, size: usize) -> bool {
        self.shadow.check(addr, size)
    }

    fn poison_fresh(&self, addr: usize, len: usize) {
        self.shadow.poison(addr, len, PAGE_FREE);
    }

    fn poison_slab(&self, run: usize, len: usize) {
        self.shadow.poison(run, len, SLAB_REDZONE);
    }

    fn init_slab_obj(&self, _object: usize, _policy: TagPolicy, _cpu: usize) -> u8 {
        GENERIC_TAG
    }

    fn slab_alloc(
        &self,
        object: usize,
        object_size: usize,
        size: usize,
        _policy: TagPolicy,
        _prev_tag: u8,
        _cpu: usize,
    ) -> (usize, u8) {
        self.unpoison_with_redzone(object, size, object_size, SLAB_REDZONE);
        (object, GENERIC_TAG)
    }

    fn free_check(&self, _tagged: usize) -> FreeCheck {
        FreeCheck::Ok
    }

    fn poison_free(&self, object: usize, object_size: usize, page_backed: bool, vmalloc: bool) {
        let value = match (page_backed, vmalloc) {
            (_, true) => VMALLOC_INVALID,
            (true, false) => PAGE_FREE,
            (false, false) => SLAB_FREE,
        };
        self.shadow.poison(object, round_up(object_size), value);
        if !page_backed {
            // The free track is valid (Linux's `kasan_save_free_info` marks it).
            self.shadow.poison(object, GRANULE_SIZE, SLAB_FREE_META);
        }
    }

    fn unpoison_block(
        &self,
        block: usize,
        len: usize,
        size: usize,
        _prev_tag: u8,
        kind: BlockKind,
        _cpu: usize,
    ) -> (usize, u8) {
        self.unpoison_with_redzone(block, size, len, Self::redzone(kind));
        (block, GENERIC_TAG)
    }

    fn resize(&self, tagged: usize, new_size: usize, object_size: usize, kind: BlockKind) {
        self.unpoison_with_redzone(tagged, new_size, object_size, Self::redzone(kind));
    }

    fn unpoison_range(&self, tagged: usize, size: usize) {
        self.shadow.unpoison(tagged, size);
    }

    #[inline(always)]
    fn record(
        &self,
        _tagged: usize,
        _object_size: usize,
        _is_free: bool,
        _track: &Track,
        _cpu: usize,
    ) {
    }

    fn shadow_span(&self, addr: usize, len: usize) -> (usize, usize) {
        (
            self.shadow.shadow_addr(addr),
            self.shadow.shadow_addr(addr + len),
        )
    }

    fn shadow_pages(&self) -> Option<&'static dyn crate::shadow_pages::ShadowPages> {
        self.shadow.pages()
    }

    fn release_free(&self, free: (usize, usize), touched: (usize, usize)) {
        if let Some(pages) = self.shadow.pages() {
            crate::shadow_pages::release_free_covered(
                pages,
                self.shadow.range(),
                |a| self.shadow.shadow_addr(a),
                free,
                touched,
                PAGE_FREE,
                crate::shadow_pages::SHARE_MIN_POISON_PAGES,
            );
        }
    }

    fn quarantine_release(&self, object: usize) {
        // Out of the quarantine: the free-track mark goes (Linux's `qlink_free`).
        if self.shadow.byte(object) == Some(SLAB_FREE_META) {
            self.shadow.poison(object, GRANULE_SIZE, SLAB_FREE);
        }
    }
}

impl ReportMode for Generic {
    fn name(&self) -> &'static str {
        <Self as Mode>::NAME
    }

    fn granule(&self) -> usize {
        GRANULE_SIZE
    }

    fn has_metadata(&self, addr: usize) -> bool {
        self.shadow.has_metadata(addr)
    }

    fn untag(&self, addr: usize) -> usize {
        addr
    }

    fn first_bad_addr(&self, addr: usize, size: usize) -> usize {
        self.shadow.first_bad_addr(addr, size)
    }

    fn tags(&self, _addr: usize, _first_bad: usize) -> Option<(u8, u8)> {
        None
    }

    fn bug_type(
        &self,
        addr: usize,
        size: usize,
        first_bad: usize,
        _object: Option<&ObjectInfo>,
        _ring: Option<&RingFind>,
    ) -> &'static str {
        bug_type(&self.shadow, addr, size, first_bad)
    }

    fn region_size(&self, object: usize, object_size: usize) -> usize {
        // The valid bytes read from shadow; a freed object (whose shadow says
        // nothing) shows the cache's object size.
        match self.shadow.valid_size(object, object_size) {
            0 => object_size,
            n => n,
        }
    }

    fn region_state_word(&self) -> bool {
        true
    }

    fn read_row(&self, row: usize, out: &mut [Option<u8>; 16]) {
        self.shadow.read_row(row, out);
    }

    fn ring_find(&self, _tagged: usize, _object: usize, _object_size: usize) -> Option<RingFind> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::FakeMemory;

    #[test]
    fn every_shadow_value_gets_linux_title() {
        let m = FakeMemory::new(4096);
        let s = m.shadow();
        let b = m.base();
        let cases: &[(u8, &str)] = &[
            (PAGE_REDZONE, "slab-out-of-bounds"),
            (SLAB_REDZONE, "slab-out-of-bounds"),
            (GLOBAL_REDZONE, "global-out-of-bounds"),
            (STACK_LEFT, "stack-out-of-bounds"),
            (STACK_MID, "stack-out-of-bounds"),
            (STACK_RIGHT, "stack-out-of-bounds"),
            (STACK_PARTIAL, "stack-out-of-bounds"),
            (PAGE_FREE, "use-after-free"),
            (SLAB_FREE, "slab-use-after-free"),
            (SLAB_FREE_META, "slab-use-after-free"),
            (ALLOCA_LEFT, "alloca-out-of-bounds"),
            (ALLOCA_RIGHT, "alloca-out-of-bounds"),
            (VMALLOC_INVALID, "vmalloc-out-of-bounds"),
            (0xF5, "unknown-crash"),
            (0, "out-of-bounds"),
        ];
        for &(value, title) in cases {
            s.poison(b, 64, value);
            assert_eq!(bug_type(&s, b, 1, b), title, "shadow {value:#x}");
            // Behind a partial granule, the next granule decides.
            s.unpoison(b, 5);
            assert_eq!(bug_type(&s, b + 5, 1, b), title, "partial then {value:#x}");
        }
        assert_eq!(bug_type(&s, b, usize::MAX, b), "out-of-bounds");
        assert_eq!(bug_type(&s, 16, 8, 16), "null-ptr-deref");
        assert_eq!(bug_type(&s, usize::MAX - 8, 8, 0), "wild-memory-access");
    }
}

#[cfg(test)]
mod mode_tests {
    use super::*;
    use crate::testing::FakeMemory;

    #[test]
    fn generic_hooks_write_todays_shadow_values() {
        let m = FakeMemory::new(1 << 16);
        let g = Generic { shadow: m.shadow() };
        let s = &g.shadow;
        let b = m.base();
        g.poison_fresh(b, 1 << 16);
        assert_eq!(s.byte(b + 100), Some(PAGE_FREE));
        g.poison_slab(b, 4096);
        assert_eq!(s.byte(b), Some(SLAB_REDZONE));
        assert_eq!(
            g.init_slab_obj(b, TagPolicy::KeptFromSlabInit, 0),
            GENERIC_TAG
        );
        let (p, tag) = g.slab_alloc(b + 64, 32, 13, TagPolicy::FreshEachAlloc, 3, 0);
        assert_eq!((p, tag), (b + 64, GENERIC_TAG));
        assert_eq!(s.byte(b + 64), Some(0));
        assert_eq!(s.byte(b + 72), Some(5));
        assert_eq!(s.byte(b + 80), Some(SLAB_REDZONE));
        assert_eq!(s.byte(b + 88), Some(SLAB_REDZONE));
        assert_eq!(g.free_check(p), FreeCheck::Ok);
        g.poison_free(p, 32, false, false);
        assert_eq!(s.byte(b + 64), Some(SLAB_FREE_META));
        assert_eq!(s.byte(b + 72), Some(SLAB_FREE));
        g.quarantine_release(p);
        assert_eq!(s.byte(b + 64), Some(SLAB_FREE));
        for (kind, value) in [
            (BlockKind::Large, PAGE_REDZONE),
            (BlockKind::Pages, PAGE_FREE),
            (BlockKind::Vmalloc, VMALLOC_INVALID),
            (BlockKind::Slab, SLAB_REDZONE),
        ] {
            let (p, _) = g.unpoison_block(b + 4096, 4096, 100, 0, kind, 0);
            assert_eq!(s.byte(p + 96), Some(4));
            assert_eq!(s.byte(p + 104), Some(value), "{kind:?}");
            g.resize(p, 10, 4096, kind);
            assert_eq!(s.byte(p + 8), Some(2));
            assert_eq!(s.byte(p + 16), Some(value), "{kind:?}");
        }
        g.poison_free(b + 4096, 4096, true, false);
        assert_eq!(s.byte(b + 4096), Some(PAGE_FREE));
        g.poison_free(b + 4096, 4096, true, true);
        assert_eq!(s.byte(b + 4096), Some(VMALLOC_INVALID));
        g.unpoison_range(b + 4096, 12);
        assert_eq!((s.byte(b + 4096), s.byte(b + 4104)), (Some(0), Some(4)));
        // The report's view.
        assert_eq!(ReportMode::name(&g), "generic");
        assert_eq!(g.tags(b, b), None);
        assert_eq!(g.ring_find(b, b, 8), None);
        assert_eq!(g.region_size(b + 4096, 4096), 12);
        assert_eq!(
            g.region_size(b + 8192, 64),
            64,
            "no valid byte: the object size"
        );
        assert!(g.region_state_word());
        assert_eq!(
            g.bug_type(b + 4112, 1, b + 4112, None, None),
            "vmalloc-out-of-bounds"
        );
    }
}
