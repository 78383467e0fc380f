//! KASAN's modes as types: what differs between generic KASAN (1/8 shadow, redzones,
//! quarantine, per-object tracks) and software tag-based KASAN (1/16 shadow, a tag in every
//! heap pointer, alloc/free stacks in the stack ring).
//!
//! A mode is one implementation of [`Mode`] (the allocator hooks, Linux's `kasan_*` hooks in
//! `mm/kasan/common.c`) and of [`ReportMode`] (the report's view: granule, first bad byte,
//! tags, bug type). The allocators are generic over [`Mode`]; the report takes a
//! `&dyn ReportMode`. [`Clock`], [`Ring`] and [`RingFind`] decouple the tag mode from the
//! stack ring that stores its tracks.

use crate::report::{ObjectInfo, Track};

/// How a cache's objects get their tag (Linux's `assign_tag`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TagPolicy {
    /// A fresh random tag on every allocation (plain caches, kmalloc).
    FreshEachAlloc,
    /// The tag chosen when the slab was set up stays with the slot (caches with a
    /// constructor or `SLAB_TYPESAFE_BY_RCU`: stale pointers must stay valid).
    KeptFromSlabInit,
}

/// What a free check found.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum FreeCheck {
    /// The free may go on (generic mode always; the object state decides there).
    Ok,
    /// The pointer's tag does not match memory: a double or invalid free.
    Double,
}

/// What kind of block a page-level hook marks.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum BlockKind {
    /// A kmalloc too large for the kmalloc caches (page backed).
    Large,
    /// Page allocator memory.
    Pages,
    /// A vmalloc area.
    Vmalloc,
    /// A slab object.
    Slab,
}

/// Allocator hooks, one implementation per mode. Addresses called `object`/`addr` are
/// untagged; `tagged` ones are as the program holds them.
pub trait Mode: Sync {
    /// `"generic"` or `"sw-tags"` (JSON `mode`, banner).
    const NAME: &'static str;
    /// Bytes per shadow byte: 8 or 16.
    const GRANULE: usize;
    /// Slab slots get redzones (`optimal_redzone`).
    const REDZONES: bool;
    /// Freed objects go through the quarantine.
    const QUARANTINE: bool;
    /// Tracks live in per-object metadata (true) or in the stack ring (false).
    const OBJECT_TRACKS: bool;
    /// The smallest kmalloc class (8 or 16).
    const MIN_KMALLOC: usize;

    /// The address without its tag (generic: identity).
    fn untag(&self, tagged: usize) -> usize;
    /// The pointer's tag (generic: 0xFF).
    fn tag_of(&self, tagged: usize) -> u8;
    /// The access check, fast path: true when `size` bytes at `addr` may be accessed.
    fn check(&self, addr: usize, size: usize) -> bool;
    /// Marks fresh arena memory or freed runs inaccessible.
    fn poison_fresh(&self, addr: usize, len: usize);
    /// `__kasan_poison_slab`: a new slab run is inaccessible until objects are allocated.
    fn poison_slab(&self, run: usize, len: usize);
    /// `__kasan_init_slab_obj`: the tag a new slot starts with (Kept policy) or the
    /// match-all tag.
    fn init_slab_obj(&self, object: usize, policy: TagPolicy, cpu: usize) -> u8;
    /// `__kasan_slab_alloc` + `____kasan_kmalloc`: unpoisons `size` bytes of the slot (its
    /// whole `object_size` for kmem_cache), redzones the rest; returns (tagged, tag).
    fn slab_alloc(
        &self,
        object: usize,
        object_size: usize,
        size: usize,
        policy: TagPolicy,
        prev_tag: u8,
        cpu: usize,
    ) -> (usize, u8);
    /// Checks a free of `tagged` (object start already checked): Double if the pointer
    /// tag does not match memory (tag modes); generic returns Ok (the state decides).
    fn free_check(&self, tagged: usize) -> FreeCheck;
    /// Marks a freed object (or page-backed block) inaccessible.
    fn poison_free(&self, object: usize, object_size: usize, page_backed: bool, vmalloc: bool);
    /// Pages / large kmalloc / vmalloc: one tag for the block; the tail after `size` is
    /// poisoned. Returns (tagged, tag).
    fn unpoison_block(
        &self,
        block: usize,
        len: usize,
        size: usize,
        prev_tag: u8,
        kind: BlockKind,
        cpu: usize,
    ) -> (usize, u8);
    /// krealloc in place: `new_size` bytes of the `object_size` slot become accessible.
    fn resize(&self, tagged: usize, new_size: usize, object_size: usize, kind: BlockKind);
    /// Makes `size` bytes at `tagged` accessible with the pointer's tag (ksize, mempool).
    fn unpoison_range(&self, tagged: usize, size: usize);
    /// Alloc/free event for the stack ring (tag modes; generic: no-op). Takes ownership
    /// of `track.stack` (a GET reference in tag modes).
    fn record(&self, tagged: usize, object_size: usize, is_free: bool, track: &Track, cpu: usize);
    /// A freed slab object at `object` leaves the quarantine (generic: its free-track
    /// mark goes, Linux's `qlink_free`); modes without a quarantine never see it.
    fn quarantine_release(&self, _object: usize) {}
    /// The shadow addresses `[lo, hi)` that describe memory `[addr, addr + len)`
    /// (untagged, page-aligned): what vmalloc populates and releases; `(0, 0)` for a
    /// mode whose shadow pages are not managed.
    fn shadow_span(&self, _addr: usize, _len: usize) -> (usize, usize) {
        (0, 0)
    }
    /// The platform's backing of this mode's shadow pages, if it shares them.
    fn shadow_pages(&self) -> Option<&'static dyn crate::shadow_pages::ShadowPages> {
        None
    }
    /// Freed memory `touched` joined free memory `free` (both untagged, page-aligned;
    /// the caller holds the lock that owns free memory): shadow pages that now
    /// describe free memory only go back to the shared poisoned page.
    fn release_free(&self, _free: (usize, usize), _touched: (usize, usize)) {}
}

/// The report's view of a mode (object safe; cold path).
pub trait ReportMode: Sync {
    /// `"generic"` or `"sw-tags"`.
    fn name(&self) -> &'static str;
    /// Bytes per shadow byte.
    fn granule(&self) -> usize;
    /// Whether `addr` has shadow (or tag) metadata at all.
    fn has_metadata(&self, addr: usize) -> bool;
    /// The address without its tag.
    fn untag(&self, addr: usize) -> usize;
    /// The first byte of `[addr, addr + size)` that may not be accessed.
    fn first_bad_addr(&self, addr: usize, size: usize) -> usize;
    /// The `Pointer tag`/`memory tag` pair; None in generic mode.
    fn tags(&self, addr: usize, first_bad: usize) -> Option<(u8, u8)>;
    /// Bug type of an access; `object` from the heap's description, `ring` the stack
    /// ring's finding if any.
    fn bug_type(
        &self,
        addr: usize,
        size: usize,
        first_bad: usize,
        object: Option<&ObjectInfo>,
        ring: Option<&RingFind>,
    ) -> &'static str;
    /// The region size printed for an object (generic: the valid size; tags: the
    /// granule-rounded allocation size).
    fn region_size(&self, object: usize, object_size: usize) -> usize;
    /// Whether the region line carries `allocated `/`freed ` (generic only).
    fn region_state_word(&self) -> bool;
    /// One row of the shadow dump, 16 shadow bytes: `row` is the (untagged) memory
    /// address of the row's first granule (rows cover `16 * granule()` bytes); None
    /// where no shadow is mapped.
    fn read_row(&self, row: usize, out: &mut [Option<u8>; 16]);
    /// Tag modes: the alloc/free tracks and the newest kind for the object at `object`
    /// seen through `tagged` (the stack ring's scan); generic: None.
    fn ring_find(&self, tagged: usize, object: usize, object_size: usize) -> Option<RingFind>;
}

/// A clock for ordering ring entries: invariant-TSC ticks or nanoseconds, monotonic
/// across CPUs.
pub trait Clock: Sync {
    /// The current time.
    fn now(&self) -> u64;
}

/// What a stack ring scan found for one tagged pointer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RingFind {
    /// The newest allocation of the object through this tagged pointer.
    pub alloc: Option<Track>,
    /// The newest free of it.
    pub free: Option<Track>,
    /// Whether the newest matching entry is a free (use-after-free) or an alloc
    /// (out-of-bounds); None when nothing matched.
    pub newest_is_free: Option<bool>,
}

/// The stack ring as a mode sees it.
pub trait Ring: Sync {
    /// Records one event; consumes `track.stack` (a GET reference). Never waits.
    fn record(&self, tagged: usize, object_size: u32, is_free: bool, track: &Track, cpu: usize);
    /// Linux's newest-first scan for the object whose tagged pointer is `tagged`.
    fn find(&self, tagged: usize, object_size: u32) -> RingFind;
}
