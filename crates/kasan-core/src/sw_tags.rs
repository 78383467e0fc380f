//! Software tag-based KASAN: a tag in every heap pointer, a tag byte in shadow for
//! every 16-byte granule, and an access is good when the two agree.
//!
//! The pieces, each replaceable on its own:
//!
//! - [`TagScheme`]: the tag width and its reserved values (the match-all `kernel`
//!   tag, the `invalid` tag every poisoned granule carries, the largest random tag);
//!   [`X86_64`] (4 bits) and [`TBI`] (8 bits), as Linux's `kasan-tags.h` values.
//! - [`TagCarrier`]: which address bits hold the tag. [`AliasCarrier`] is the hosted
//!   heap's: sixteen aliases of one region, the alias index being `tag ^ kernel`;
//!   [`TopBitsCarrier`] puts it in the top bits (LAM, TBI).
//! - [`TagShadow`]: the 1/16 shadow, one tag byte per granule, with Linux's sw-tags
//!   check (`kasan_check_range`), first-bad-address walk and allocation size.
//! - [`TagGen`]: per-CPU LCGs drawing random tags that avoid given ones (the slot's
//!   previous tag, its neighbours').
//! - [`SwTags`]: all of it as a [`Mode`] and [`ReportMode`], its tracks going to a
//!   stack [`Ring`].
//!
//! ```text
//!  kmalloc(13) in a kmalloc-32 slot, tag 3:
//!    pointer  ..3..|object           memory tags | 03 | 0e |  (granule 16)
//!  kfree                                          | 0e | 0e |
//! ```
//!
//! No short granules: an object of 13 bytes owns its whole granule, so an overflow is
//! seen only from the next granule on (Linux's sw-tags rule).
//!
//! # Safety
//!
//! [`TagShadow::new`] takes the promise that the shadow of its range is mapped; every
//! shadow access below goes through `load`/`fill_tags`, which only touch shadow bytes of
//! addresses inside that range.
#![allow(unsafe_code)]

use core::ptr;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use crate::mode::{BlockKind, FreeCheck, Mode, ReportMode, Ring, RingFind, TagPolicy};
use crate::report::{Backing, ObjectInfo, Track};
use crate::shadow_pages::{fill_shadow, ShadowPages, SHARE_MIN_PAGES, SHARE_MIN_POISON_PAGES};
use crate::sync::CachePadded;

/// Bytes per tag granule (`KASAN_GRANULE_SIZE` of the tag modes).
pub const TAG_GRANULE: usize = 16;
/// log2 of [`TAG_GRANULE`].
pub const TAG_GRANULE_SHIFT: u32 = 4;

/// Rounds up to a tag granule.
pub const fn round_up_tag(x: usize) -> usize {
    x.saturating_add(TAG_GRANULE - 1) & !(TAG_GRANULE - 1)
}

/// A tag width and its reserved values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TagScheme {
    /// Bits in a tag.
    pub width: u32,
    /// The match-all tag: pointers carrying it are never checked (native pointers).
    pub kernel: u8,
    /// The tag of every poisoned granule; never given to a pointer.
    pub invalid: u8,
    /// The largest random tag (random tags are `0..=max`).
    pub max: u8,
}

/// Linux's x86 series: 4-bit tags, 0xF match-all, 0xE invalid, 0..=0xD random.
pub const X86_64: TagScheme = TagScheme {
    width: 4,
    kernel: 0xF,
    invalid: 0xE,
    max: 0xD,
};

/// arm64's top-byte-ignore: 8-bit tags, 0xFF match-all, 0xFE invalid, 0..=0xFD.
pub const TBI: TagScheme = TagScheme {
    width: 8,
    kernel: 0xFF,
    invalid: 0xFE,
    max: 0xFD,
};

/// Which address bits carry the tag.
pub trait TagCarrier: Sync {
    /// The tag of `addr`; the scheme's match-all tag when it carries none.
    fn tag(&self, addr: usize) -> u8;
    /// `addr` without its tag.
    fn untag(&self, addr: usize) -> usize;
    /// `addr` carrying `tag` (addresses that cannot carry one are returned as they are).
    fn with_tag(&self, addr: usize, tag: u8) -> usize;
}

/// The hosted heap's carrier: `kernel + 1` aliases of `1 << shift` bytes each from
/// `base` (aligned to the whole region); alias `a` holds the pointers of tag
/// `a ^ kernel`, so alias 0 is the canonical, match-all one. Addresses outside the
/// region carry no tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AliasCarrier {
    /// The region's first address (alias 0).
    pub base: usize,
    /// log2 of an alias's size (40 on the hosted heap).
    pub shift: u32,
    /// The match-all tag, also the mask of the alias index.
    pub kernel: u8,
}

impl AliasCarrier {
    #[inline(always)]
    fn in_region(&self, addr: usize) -> bool {
        (addr.wrapping_sub(self.base) >> self.shift) <= self.kernel as usize
    }
}

impl TagCarrier for AliasCarrier {
    #[inline(always)]
    fn tag(&self, addr: usize) -> u8 {
        if self.in_region(addr) {
            (((addr - self.base) >> self.shift) as u8) ^ self.kernel
        } else {
            self.kernel
        }
    }

    #[inline(always)]
    fn untag(&self, addr: usize) -> usize {
        if self.in_region(addr) {
            addr & !((self.kernel as usize) << self.shift)
        } else {
            addr
        }
    }

    #[inline(always)]
    fn with_tag(&self, addr: usize, tag: u8) -> usize {
        if !self.in_region(addr) {
            return addr;
        }
        self.untag(addr) | ((((tag ^ self.kernel) & self.kernel) as usize) << self.shift)
    }
}

/// [`AliasCarrier`] whose region base is set at start-up ([`LateAliasCarrier::set_base`]),
/// for a region mapped at run time; before that no address carries a tag.
#[derive(Debug)]
pub struct LateAliasCarrier {
    base: AtomicUsize,
    /// log2 of an alias's size.
    pub shift: u32,
    /// The match-all tag, also the mask of the alias index.
    pub kernel: u8,
}

impl LateAliasCarrier {
    /// A carrier with no region yet.
    pub const fn new(shift: u32, kernel: u8) -> LateAliasCarrier {
        LateAliasCarrier {
            base: AtomicUsize::new(0),
            shift,
            kernel,
        }
    }

    /// Sets the region's base (aligned to `(kernel + 1) << shift`; start-up, before
    /// any tagged pointer exists; the caller publishes it as for
    /// [`TagShadow::set_range`]).
    pub fn set_base(&self, base: usize) {
        // Relaxed: published by the caller.
        self.base.store(base, Ordering::Relaxed);
    }

    /// The carrier as a plain value.
    #[inline(always)]
    pub fn get(&self) -> AliasCarrier {
        AliasCarrier {
            // Relaxed: set once at start-up and published by the runtime.
            base: self.base.load(Ordering::Relaxed),
            shift: self.shift,
            kernel: self.kernel,
        }
    }
}

impl TagCarrier for LateAliasCarrier {
    #[inline(always)]
    fn tag(&self, addr: usize) -> u8 {
        let c = self.get();
        if c.base == 0 {
            return self.kernel;
        }
        c.tag(addr)
    }

    #[inline(always)]
    fn untag(&self, addr: usize) -> usize {
        let c = self.get();
        if c.base == 0 {
            return addr;
        }
        c.untag(addr)
    }

    #[inline(always)]
    fn with_tag(&self, addr: usize, tag: u8) -> usize {
        let c = self.get();
        if c.base == 0 {
            return addr;
        }
        c.with_tag(addr, tag)
    }
}

/// Tags in `width` bits from bit `shift` (LAM_U57: 57/4, TBI: 56/8). `native` is
/// what those bits hold in a pointer that carries no tag (0 in user space, all ones in
/// an arm64 kernel); such a pointer reads as the match-all tag (all ones), and the bits
/// of a tagged pointer are `tag ^ native ^ all-ones`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TopBitsCarrier {
    /// The tag's lowest bit.
    pub shift: u32,
    /// Bits in the tag.
    pub width: u32,
    /// The bits of an untagged pointer.
    pub native: u8,
}

impl TopBitsCarrier {
    #[inline(always)]
    fn ones(&self) -> u8 {
        (((1u32 << self.width) - 1) & 0xFF) as u8
    }

    #[inline(always)]
    fn field(&self) -> usize {
        (self.ones() as usize) << self.shift
    }
}

impl TagCarrier for TopBitsCarrier {
    #[inline(always)]
    fn tag(&self, addr: usize) -> u8 {
        let bits = ((addr >> self.shift) as u8) & self.ones();
        bits ^ self.native ^ self.ones()
    }

    #[inline(always)]
    fn untag(&self, addr: usize) -> usize {
        (addr & !self.field()) | (((self.native & self.ones()) as usize) << self.shift)
    }

    #[inline(always)]
    fn with_tag(&self, addr: usize, tag: u8) -> usize {
        let bits = (tag ^ self.native ^ self.ones()) & self.ones();
        (addr & !self.field()) | ((bits as usize) << self.shift)
    }
}

/// The fewest whole tag shadow pages a tag write must span before they are shared:
/// half the generic shadow's [`SHARE_MIN_PAGES`], so that the same blocks share in
/// both modes (768 KiB of memory). A tag write is all a block's shadow ever gets (no
/// byte-granular redzones inside it), and the block's own memory, given back when
/// freed from 256 KiB on, costs sixteen faults for each of its shadow pages.
pub const TAG_SHARE_MIN_PAGES: usize = SHARE_MIN_PAGES / 2;

/// The same for the invalid tag of a free and for giving a freed block's tag shadow
/// back (`release_free`): half of [`SHARE_MIN_POISON_PAGES`] (832 KiB of memory),
/// so a freed 1 MiB block's tag shadow goes back to the shared page of the invalid
/// tag as the generic shadow of one does to `PAGE_FREE`'s.
pub const TAG_SHARE_MIN_POISON_PAGES: usize = SHARE_MIN_POISON_PAGES / 2;

/// The tag shadow: one byte per 16-byte granule of `[start, end)` (untagged
/// addresses), holding the granule's tag. Its place may be set once at start-up
/// ([`TagShadow::set_range`]) when it is only known then (a mapping made at run
/// time); until then nothing is covered.
pub struct TagShadow<C: TagCarrier> {
    offset: AtomicUsize,
    start: AtomicUsize,
    end: AtomicUsize,
    carrier: C,
    scheme: TagScheme,
    /// How the platform backs shadow pages (none: every byte is written).
    pages: Option<&'static dyn ShadowPages>,
}

impl<C: TagCarrier + core::fmt::Debug> core::fmt::Debug for TagShadow<C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TagShadow")
            .field("offset", &self.offset)
            .field("start", &self.start)
            .field("end", &self.end)
            .field("carrier", &self.carrier)
            .field("scheme", &self.scheme)
            .field("paged", &self.pages.is_some())
            .finish()
    }
}

impl<C: TagCarrier> TagShadow<C> {
    /// A tag shadow at `offset` (the byte of untagged `addr` is at
    /// `(addr >> 4) + offset`) covering `[start, end)`.
    ///
    /// # Safety
    ///
    /// For every `addr` in `[start, end)`, the byte at `(addr >> 4).wrapping_add(offset)`
    /// must be mapped, readable and writable for as long as this value (or a copy) is
    /// used, and must not overlap `[start, end)`.
    pub const unsafe fn new(
        offset: usize,
        start: usize,
        end: usize,
        carrier: C,
        scheme: TagScheme,
    ) -> Self {
        TagShadow {
            offset: AtomicUsize::new(offset),
            start: AtomicUsize::new(start),
            end: AtomicUsize::new(end),
            carrier,
            scheme,
            pages: None,
        }
    }

    /// [`TagShadow::new`] with page sharing: a tag write spanning
    /// [`TAG_SHARE_MIN_PAGES`] whole shadow pages or more (768 KiB of memory at 1/16;
    /// [`TAG_SHARE_MIN_POISON_PAGES`] for the invalid tag of a free) maps them to the
    /// platform's shared page of that tag, as the generic shadow does
    /// ([`crate::shadow::Shadow::with_pages`]).
    ///
    /// # Safety
    ///
    /// As [`TagShadow::new`]; the platform keeps the promise for the pages it shares
    /// (they read as mapped memory, and a write to one makes a private copy unless it
    /// answers `copy_on_write` false).
    pub const unsafe fn new_paged(
        offset: usize,
        start: usize,
        end: usize,
        carrier: C,
        scheme: TagScheme,
        pages: &'static dyn ShadowPages,
    ) -> Self {
        TagShadow {
            offset: AtomicUsize::new(offset),
            start: AtomicUsize::new(start),
            end: AtomicUsize::new(end),
            carrier,
            scheme,
            pages: Some(pages),
        }
    }

    /// Moves the shadow to `offset`, covering `[start, end)` (start-up, before any
    /// tagged pointer exists).
    ///
    /// # Safety
    ///
    /// As [`TagShadow::new`] for the new values; no other thread may use the shadow
    /// while it is set (the caller publishes the change, e.g. with the Release store
    /// that marks the runtime ready).
    pub unsafe fn set_range(&self, offset: usize, start: usize, end: usize) {
        // Relaxed: published by the caller (see Safety); `end` last, so a racing
        // reader sees at worst an empty range.
        self.end.store(start, Ordering::Relaxed);
        self.offset.store(offset, Ordering::Relaxed);
        self.start.store(start, Ordering::Relaxed);
        self.end.store(end, Ordering::Relaxed);
    }

    #[inline(always)]
    fn start(&self) -> usize {
        // Relaxed: set once at start-up and published by the runtime (`set_range`).
        self.start.load(Ordering::Relaxed)
    }

    #[inline(always)]
    fn end(&self) -> usize {
        // Relaxed: as in `start`.
        self.end.load(Ordering::Relaxed)
    }

    /// The carrier.
    pub fn carrier(&self) -> &C {
        &self.carrier
    }

    /// The scheme.
    pub fn scheme(&self) -> &TagScheme {
        &self.scheme
    }

    /// The covered (untagged) range.
    pub fn range(&self) -> (usize, usize) {
        (self.start(), self.end())
    }

    /// Whether the untagged `addr` has a tag byte.
    #[inline(always)]
    fn covered(&self, addr: usize) -> bool {
        let start = self.start();
        addr.wrapping_sub(start) < self.end().wrapping_sub(start)
    }

    /// Whether `addr` (tagged or not) has shadow (Linux's `addr_has_metadata`).
    pub fn has_metadata(&self, addr: usize) -> bool {
        self.covered(self.carrier.untag(addr))
    }

    /// The shadow byte's address of untagged `addr`.
    #[inline(always)]
    pub fn shadow_addr(&self, addr: usize) -> usize {
        // Relaxed: as in `start`.
        (addr >> TAG_GRANULE_SHIFT).wrapping_add(self.offset.load(Ordering::Relaxed))
    }

    #[inline(always)]
    fn load(&self, addr: usize) -> u8 {
        debug_assert!(self.covered(addr));
        // SAFETY: callers pass covered untagged addresses, whose shadow byte is mapped
        // (the promise made to `TagShadow::new`).
        unsafe { ptr::read_volatile(self.shadow_addr(addr) as *const u8) }
    }

    /// Writes `tag` into the shadow of the granules of `[object, object + size)`
    /// (untagged; both ends rounded out to granules, the part outside the covered
    /// range ignored): Linux's `kasan_poison` (with `invalid`) and the tag write of
    /// `kasan_unpoison`.
    pub fn poison(&self, object: usize, size: usize, tag: u8) {
        let object = self.carrier.untag(object);
        let begin = (object & !(TAG_GRANULE - 1)).max(round_up_tag(self.start()));
        let end = round_up_tag(object.saturating_add(size)).min(self.end() & !(TAG_GRANULE - 1));
        if begin >= end {
            return;
        }
        let count = (end - begin) >> TAG_GRANULE_SHIFT;
        let min = if tag == self.scheme.invalid {
            TAG_SHARE_MIN_POISON_PAGES
        } else {
            TAG_SHARE_MIN_PAGES
        };
        let first = self.shadow_addr(begin);
        // SAFETY: `[begin, end)` is inside the covered range, so its `count` shadow
        // bytes from `first` are mapped and writable (`TagShadow::new`, and
        // `with_pages` for shared pages).
        unsafe { fill_shadow(self.pages, first, first + count, tag, min) };
    }

    /// Linux's `kasan_unpoison`: the granules of `[untag(tagged), +round_up(size))` get
    /// the pointer's tag.
    pub fn unpoison(&self, tagged: usize, size: usize) {
        self.poison(self.carrier.untag(tagged), size, self.carrier.tag(tagged));
    }

    /// The platform's backing of the shadow pages, if it shares them.
    pub fn pages(&self) -> Option<&'static dyn ShadowPages> {
        self.pages
    }

    /// Whether the untagged `addr` has a tag byte that can be read now: covered, and
    /// not on a shadow page the platform left unmapped (on-demand vmalloc shadow
    /// nobody populated). The allocator and the report ask this; the access check
    /// does not, so an access there faults.
    fn readable(&self, addr: usize) -> bool {
        self.covered(addr)
            && self
                .pages
                .is_none_or(|p| p.readable(self.shadow_addr(addr)))
    }

    /// The tag of the granule holding `addr` (tagged or not), if it has shadow.
    pub fn tag_at(&self, addr: usize) -> Option<u8> {
        let a = self.carrier.untag(addr);
        self.readable(a).then(|| self.load(a))
    }

    /// Linux's sw-tags `kasan_check_range`: true when `size` bytes at the tagged
    /// `addr` may be accessed.
    #[inline(always)]
    pub fn check(&self, addr: usize, size: usize) -> bool {
        if size == 0 {
            return true;
        }
        if addr.checked_add(size).is_none() {
            return false;
        }
        let tag = self.carrier.tag(addr);
        if tag == self.scheme.kernel {
            return true;
        }
        let a = self.carrier.untag(addr);
        let last = a + (size - 1);
        if !self.covered(a) || !self.covered(last) {
            return false;
        }
        if size <= TAG_GRANULE {
            // At most two granules: the first and the last.
            return self.load(a) == tag && self.load(last) == tag;
        }
        self.check_n(a, last, tag)
    }

    #[inline(never)]
    fn check_n(&self, a: usize, last: usize, tag: u8) -> bool {
        let mut g = a & !(TAG_GRANULE - 1);
        while g <= last {
            if self.load(g) != tag {
                return false;
            }
            g += TAG_GRANULE;
        }
        true
    }

    /// Linux's `kasan_byte_accessible`: the match-all tag, or the tag of the granule.
    pub fn byte_accessible(&self, tagged: usize) -> bool {
        let a = self.carrier.untag(tagged);
        if !self.readable(a) {
            return false;
        }
        let tag = self.carrier.tag(tagged);
        tag == self.scheme.kernel || tag == self.load(a)
    }

    /// Linux's sw-tags `kasan_find_first_bad_addr`: from `untag(addr)` in granule
    /// steps while the memory tag equals the pointer's, up to `addr + size`; the result
    /// is untagged.
    pub fn first_bad_addr(&self, addr: usize, size: usize) -> usize {
        let tag = self.carrier.tag(addr);
        let mut p = self.carrier.untag(addr);
        if !self.readable(p) {
            return p;
        }
        let end = p.saturating_add(size);
        while p < end && self.readable(p) && self.load(p) == tag {
            p += TAG_GRANULE;
        }
        p
    }

    /// Linux's sw-tags `kasan_get_alloc_size`: the granules from `object` whose tag is
    /// not `invalid`, up to `object_size` (which is returned when all of them are);
    /// 0 when the first one is invalid.
    pub fn alloc_size(&self, object: usize, object_size: usize) -> usize {
        let object = self.carrier.untag(object);
        let mut size = 0;
        while size < object_size {
            if !self.readable(object + size) || self.load(object + size) == self.scheme.invalid {
                return size;
            }
            size += TAG_GRANULE;
        }
        object_size
    }

    /// The tags of the granules from the untagged `row` on, `None` where there is no
    /// shadow.
    pub fn read_row(&self, row: usize, out: &mut [Option<u8>]) {
        for (i, slot) in out.iter_mut().enumerate() {
            let a = row.wrapping_add(i << TAG_GRANULE_SHIFT);
            *slot = self.readable(a).then(|| self.load(a));
        }
    }
}

/// Per-CPU slots of [`TagGen`] (CPUs beyond share them, modulo).
pub const TAG_GEN_CPUS: usize = 64;

/// Random tags: one LCG per CPU (Linux's `kasan_random_tag`: `s = 1664525 * s +
/// 1013904223`). The read-modify-write is deliberately not atomic: a thread preempted
/// in between only repeats a tag another thread drew.
pub struct TagGen {
    states: [CachePadded<AtomicU32>; TAG_GEN_CPUS],
}

impl core::fmt::Debug for TagGen {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TagGen").finish_non_exhaustive()
    }
}

impl Default for TagGen {
    fn default() -> Self {
        Self::new()
    }
}

impl TagGen {
    /// Generators with a fixed seed (call [`TagGen::seed`] at start-up).
    pub const fn new() -> TagGen {
        let mut states = [const { CachePadded(AtomicU32::new(0)) }; TAG_GEN_CPUS];
        let mut i = 0;
        while i < TAG_GEN_CPUS {
            states[i] = CachePadded(AtomicU32::new((i as u32).wrapping_mul(0x9E37_79B9) | 1));
            i += 1;
        }
        TagGen { states }
    }

    /// Seeds every CPU's generator from `seed` (Linux: `get_cycles()` per CPU).
    pub fn seed(&self, seed: u64) {
        for (i, s) in self.states.iter().enumerate() {
            let mixed = (seed ^ (seed >> 29))
                .wrapping_add((i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15))
                .wrapping_mul(0xBF58_476D_1CE4_E5B9);
            // Relaxed: the states are private to their CPUs' draws; any value is a seed.
            s.store((mixed >> 32) as u32, Ordering::Relaxed);
        }
    }

    /// The next raw draw of `cpu`'s generator (its upper 16 bits: an LCG's low bits
    /// have short periods).
    #[inline(always)]
    fn draw(&self, cpu: usize) -> u32 {
        let s = &self.states[cpu % TAG_GEN_CPUS];
        // Relaxed load and store, not an RMW: no partner; a lost update only repeats a
        // state (see the type's docs).
        let next = s
            .load(Ordering::Relaxed)
            .wrapping_mul(1_664_525)
            .wrapping_add(1_013_904_223);
        s.store(next, Ordering::Relaxed);
        next >> 16
    }

    /// A random tag in `0..=scheme.max` for `cpu`, never one of `avoid` (values
    /// above `max` in it are ignored), in one draw: uniform over the others. If `avoid`
    /// covers every tag, any tag.
    pub fn next(&self, cpu: usize, scheme: &TagScheme, avoid: &[u8]) -> u8 {
        let mut banned = [0u8; 8];
        let mut n = 0;
        for &a in avoid {
            if a <= scheme.max && !banned[..n].contains(&a) && n < banned.len() {
                banned[n] = a;
                n += 1;
            }
        }
        let banned = &mut banned[..n];
        banned.sort_unstable();
        let total = scheme.max as u32 + 1;
        let k = total - n as u32;
        let r = self.draw(cpu);
        if k == 0 {
            return (r % total) as u8;
        }
        // The `r % k`-th allowed tag: step over each banned value at or below it.
        let mut t = r % k;
        for &b in banned.iter() {
            if u32::from(b) <= t {
                t += 1;
            }
        }
        t as u8
    }
}

/// Software tag-based KASAN: the tag shadow, the tag generators and the stack ring
/// its slab tracks go to.
pub struct SwTags<C: TagCarrier + 'static> {
    /// The tag shadow.
    pub shadow: TagShadow<C>,
    /// The random tag source.
    pub tags: TagGen,
    /// Where slab alloc/free events are recorded.
    pub ring: &'static dyn Ring,
}

impl<C: TagCarrier + core::fmt::Debug + 'static> core::fmt::Debug for SwTags<C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SwTags")
            .field("shadow", &self.shadow)
            .finish_non_exhaustive()
    }
}

impl<C: TagCarrier + 'static> SwTags<C> {
    /// The mode over `shadow`, recording into `ring`.
    pub const fn new(shadow: TagShadow<C>, ring: &'static dyn Ring) -> Self {
        SwTags {
            shadow,
            tags: TagGen::new(),
            ring,
        }
    }

    /// The scheme.
    pub fn scheme(&self) -> &TagScheme {
        &self.shadow.scheme
    }

    /// The tag of the granule at untagged `addr` if it is a live tag worth avoiding
    /// (not invalid, not match-all).
    fn neighbour(&self, addr: usize) -> u8 {
        match self.shadow.tag_at(addr) {
            Some(t) if t <= self.scheme().max => t,
            _ => self.scheme().kernel,
        }
    }

    /// `kasan_unpoison` of `size` bytes with `tag`, then the granules up to
    /// `round_up(object_size)` invalid (`____kasan_kmalloc`'s redzone poison).
    fn tag_object(&self, object: usize, size: usize, object_size: usize, tag: u8) {
        let valid = round_up_tag(size);
        self.shadow.poison(object, valid, tag);
        let end = round_up_tag(object_size);
        if end > valid {
            self.shadow
                .poison(object + valid, end - valid, self.scheme().invalid);
        }
    }
}

impl<C: TagCarrier + 'static> Mode for SwTags<C> {
    const NAME: &'static str = "sw-tags";
    const GRANULE: usize = TAG_GRANULE;
    const REDZONES: bool = false;
    const QUARANTINE: bool = false;
    const OBJECT_TRACKS: bool = false;
    const MIN_KMALLOC: usize = TAG_GRANULE;

    #[inline(always)]
    fn untag(&self, tagged: usize) -> usize {
        self.shadow.carrier.untag(tagged)
    }

    #[inline(always)]
    fn tag_of(&self, tagged: usize) -> u8 {
        self.shadow.carrier.tag(tagged)
    }

    #[inline(always)]
    fn check(&self, addr: usize, size: usize) -> bool {
        self.shadow.check(addr, size)
    }

    fn poison_fresh(&self, addr: usize, len: usize) {
        self.shadow.poison(addr, len, self.scheme().invalid);
    }

    fn poison_slab(&self, run: usize, len: usize) {
        self.shadow.poison(run, len, self.scheme().invalid);
    }

    fn init_slab_obj(&self, _object: usize, policy: TagPolicy, cpu: usize) -> u8 {
        match policy {
            TagPolicy::FreshEachAlloc => self.scheme().kernel,
            TagPolicy::KeptFromSlabInit => self.tags.next(cpu, self.scheme(), &[]),
        }
    }

    fn slab_alloc(
        &self,
        object: usize,
        object_size: usize,
        size: usize,
        policy: TagPolicy,
        prev_tag: u8,
        cpu: usize,
    ) -> (usize, u8) {
        let object = self.shadow.carrier.untag(object);
        let scheme = *self.scheme();
        let tag = match policy {
            TagPolicy::KeptFromSlabInit if prev_tag <= scheme.max => prev_tag,
            _ => {
                // Never the slot's previous tag (a stale pointer one reuse old always
                // mismatches), nor the tags of the granules on either side.
                let left = self.neighbour(object.wrapping_sub(TAG_GRANULE));
                let right = self.neighbour(object + round_up_tag(object_size));
                self.tags.next(cpu, &scheme, &[prev_tag, left, right])
            }
        };
        self.tag_object(object, size, object_size, tag);
        (self.shadow.carrier.with_tag(object, tag), tag)
    }

    fn free_check(&self, tagged: usize) -> FreeCheck {
        if self.shadow.byte_accessible(tagged) {
            FreeCheck::Ok
        } else {
            FreeCheck::Double
        }
    }

    fn poison_free(&self, object: usize, object_size: usize, _page_backed: bool, _vmalloc: bool) {
        self.shadow
            .poison(object, round_up_tag(object_size), self.scheme().invalid);
    }

    fn unpoison_block(
        &self,
        block: usize,
        len: usize,
        size: usize,
        prev_tag: u8,
        _kind: BlockKind,
        cpu: usize,
    ) -> (usize, u8) {
        let block = self.shadow.carrier.untag(block);
        let tag = self.tags.next(cpu, self.scheme(), &[prev_tag]);
        self.tag_object(block, size, len, tag);
        (self.shadow.carrier.with_tag(block, tag), tag)
    }

    fn resize(&self, tagged: usize, new_size: usize, object_size: usize, _kind: BlockKind) {
        self.tag_object(
            self.shadow.carrier.untag(tagged),
            new_size,
            object_size,
            self.shadow.carrier.tag(tagged),
        );
    }

    fn unpoison_range(&self, tagged: usize, size: usize) {
        self.shadow.unpoison(tagged, size);
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
                self.scheme().invalid,
                TAG_SHARE_MIN_POISON_PAGES,
            );
        }
    }

    fn record(&self, tagged: usize, object_size: usize, is_free: bool, track: &Track, cpu: usize) {
        self.ring.record(
            tagged,
            object_size.min(u32::MAX as usize) as u32,
            is_free,
            track,
            cpu,
        );
    }
}

impl<C: TagCarrier + 'static> ReportMode for SwTags<C> {
    fn name(&self) -> &'static str {
        <Self as Mode>::NAME
    }

    fn granule(&self) -> usize {
        TAG_GRANULE
    }

    fn has_metadata(&self, addr: usize) -> bool {
        self.shadow.has_metadata(addr)
    }

    fn untag(&self, addr: usize) -> usize {
        self.shadow.carrier.untag(addr)
    }

    fn first_bad_addr(&self, addr: usize, size: usize) -> usize {
        self.shadow.first_bad_addr(addr, size)
    }

    fn tags(&self, addr: usize, first_bad: usize) -> Option<(u8, u8)> {
        let memory = self.shadow.tag_at(first_bad)?;
        Some((self.shadow.carrier.tag(addr), memory))
    }

    fn bug_type(
        &self,
        addr: usize,
        size: usize,
        _first_bad: usize,
        object: Option<&ObjectInfo>,
        ring: Option<&RingFind>,
    ) -> &'static str {
        // Linux's kasan_complete_mode_report_info: without a slab object the common
        // type; with one, the newest matching ring event decides.
        let common = if addr.checked_add(size).is_none() {
            "out-of-bounds"
        } else {
            "invalid-access"
        };
        match object {
            Some(o) if o.backing == Backing::Slab => match ring.and_then(|r| r.newest_is_free) {
                Some(true) => "slab-use-after-free",
                Some(false) => "slab-out-of-bounds",
                None => common,
            },
            _ => common,
        }
    }

    fn region_size(&self, object: usize, object_size: usize) -> usize {
        match self.shadow.alloc_size(object, object_size) {
            0 => object_size,
            n => n,
        }
    }

    fn region_state_word(&self) -> bool {
        false
    }

    fn read_row(&self, row: usize, out: &mut [Option<u8>; 16]) {
        self.shadow.read_row(row, out);
    }

    fn ring_find(&self, tagged: usize, object: usize, object_size: usize) -> Option<RingFind> {
        // Linux matches entries whose pointer is the object start carrying the
        // access's tag.
        let key = self.shadow.carrier.with_tag(
            self.shadow.carrier.untag(object),
            self.shadow.carrier.tag(tagged),
        );
        Some(
            self.ring
                .find(key, object_size.min(u32::MAX as usize) as u32),
        )
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::boxed::Box;
    use std::vec::Vec;

    use super::*;
    use crate::report::{Name, PageInfo, PageKind};
    use crate::stack::{Handle, StackDepot};
    use crate::testing::{FakeRing, FakeTagMemory, FAKE_CARRIER};

    const INVALID: u8 = X86_64.invalid;
    const KERNEL: u8 = X86_64.kernel;

    fn ring() -> &'static FakeRing {
        let depot: &'static StackDepot = Box::leak(Box::new(StackDepot::new()));
        Box::leak(Box::new(FakeRing::new(depot, 64)))
    }

    fn mode(m: &FakeTagMemory) -> (SwTags<TopBitsCarrier>, &'static FakeRing) {
        let r = ring();
        (SwTags::new(m.shadow(FAKE_CARRIER, X86_64), r), r)
    }

    #[test]
    fn alias_carrier_moves_between_aliases() {
        let c = AliasCarrier {
            base: 1 << 44,
            shift: 40,
            kernel: 0xF,
        };
        let p = (1 << 44) + 0x1230;
        assert_eq!(c.tag(p), 0xF, "alias 0 is the match-all alias");
        let t = c.with_tag(p, 3);
        assert_eq!(t, p + (0xC << 40));
        assert_eq!(c.tag(t), 3);
        assert_eq!(c.untag(t), p);
        assert_eq!(c.with_tag(t, 0xF), p);
        assert_eq!(c.tag(c.with_tag(p, 0xD)), 0xD);
        // The last byte of the last alias is in the region; the next is not.
        let last = (1 << 44) + (16 << 40) - 1;
        assert_eq!(c.tag(last), 0);
        assert_eq!(c.untag(last), (1 << 44) + (1 << 40) - 1);
        for outside in [0x1000usize, (1 << 44) - 1, (1 << 44) + (16 << 40)] {
            assert_eq!(c.tag(outside), 0xF);
            assert_eq!(c.untag(outside), outside);
            assert_eq!(c.with_tag(outside, 3), outside);
        }
    }

    #[test]
    fn late_carrier_and_shadow_are_set_at_start_up() {
        let c = LateAliasCarrier::new(40, 0xF);
        let p = (2usize << 44) + 0x4000;
        assert_eq!((c.tag(p), c.untag(p), c.with_tag(p, 3)), (0xF, p, p));
        c.set_base(2 << 44);
        assert_eq!(c.tag(c.with_tag(p, 3)), 3);
        assert_eq!(c.untag(c.with_tag(p, 3)), p);
        let m = FakeTagMemory::new(1 << 16);
        let real = m.shadow(FAKE_CARRIER, X86_64);
        let (offset, (start, end)) = (real.shadow_addr(0).wrapping_sub(0), real.range());
        // SAFETY: nothing is covered yet, so no shadow byte is promised.
        let late = unsafe { TagShadow::new(0, 0, 0, FAKE_CARRIER, X86_64) };
        let q = FAKE_CARRIER.with_tag(start + 32, 5);
        assert!(!late.has_metadata(q));
        assert!(!late.check(q, 1));
        // SAFETY: the same geometry as `real`, whose memory outlives `late`.
        unsafe { late.set_range(offset, start, end) };
        late.poison(start, 1 << 16, X86_64.invalid);
        late.unpoison(q, 16);
        assert!(late.check(q, 16) && !late.check(q + 16, 1));
        assert_eq!(real.tag_at(start + 32), Some(5));
    }

    #[test]
    fn top_bits_carrier_user_and_kernel_native_bits() {
        let lam = TopBitsCarrier {
            shift: 57,
            width: 4,
            native: 0,
        };
        let p = 0x7f00_1234_5670usize;
        assert_eq!(lam.tag(p), 0xF);
        let t = lam.with_tag(p, 5);
        assert_eq!(lam.tag(t), 5);
        assert_eq!(lam.untag(t), p);
        assert_eq!(lam.with_tag(p, 0xF), p);
        let tbi = TopBitsCarrier {
            shift: 56,
            width: 8,
            native: 0xFF,
        };
        let k = 0xFFFF_8000_0000_1000usize;
        assert_eq!(tbi.tag(k), 0xFF);
        let t = tbi.with_tag(k, 0x12);
        assert_eq!(t, 0x12FF_8000_0000_1000);
        assert_eq!(tbi.tag(t), 0x12);
        assert_eq!(tbi.untag(t), k);
    }

    #[test]
    fn check_follows_linux_sw_tags_rules() {
        let m = FakeTagMemory::new(1 << 16);
        let s = m.shadow(FAKE_CARRIER, X86_64);
        let b = m.base();
        s.poison(b, 1 << 16, INVALID);
        let p = FAKE_CARRIER.with_tag(b + 64, 3);
        // kmalloc(13): one granule of tag 3.
        s.unpoison(p, 13);
        assert_eq!(s.tag_at(b + 64), Some(3));
        assert_eq!(s.tag_at(b + 80), Some(INVALID));
        assert!(s.check(p, 1));
        assert!(s.check(p, 13));
        // No short granules: bytes 13..15 are the object's.
        assert!(s.check(p + 13, 3));
        assert!(s.check(p, 16));
        assert!(!s.check(p + 16, 1), "the next granule");
        assert!(!s.check(p + 8, 9), "crossing into the next granule");
        assert!(!s.check(p - 1, 1), "left of the object");
        assert!(s.check(p + 5, 0), "size 0");
        assert!(!s.check(usize::MAX - 4, 8), "wraps");
        // The match-all tag is never checked, even on invalid memory.
        assert!(s.check(b + 200, 64));
        assert!(!s.check(FAKE_CARRIER.with_tag(b + 64, 4), 1));
        // Outside the shadow with a real tag: bad.
        assert!(!s.check(FAKE_CARRIER.with_tag(b - 4096, 3), 1));
        // Long ranges.
        let q = FAKE_CARRIER.with_tag(b + 1024, 7);
        s.unpoison(q, 300);
        assert!(s.check(q, 300));
        assert!(
            s.check(q + 1, 303),
            "the rounded-up granule is the object's"
        );
        assert!(!s.check(q, 305));
        assert_eq!(s.first_bad_addr(q, 400), b + 1024 + 304);
        assert_eq!(s.first_bad_addr(q + 8, 400), b + 1024 + 8 + 304);
        assert_eq!(s.first_bad_addr(p + 16, 4), b + 80);
        assert_eq!(s.alloc_size(b + 1024, 512), 304);
        assert_eq!(s.alloc_size(b + 1024, 300), 300);
        assert_eq!(s.alloc_size(b + 80, 64), 0);
        assert!(s.byte_accessible(q));
        assert!(!s.byte_accessible(FAKE_CARRIER.with_tag(b + 1024, 8)));
        assert!(s.byte_accessible(b + 80), "match-all pointer");
        assert!(!s.byte_accessible(b - 16));
        let mut row = [None; 16];
        s.read_row(b + 1024, &mut row);
        assert_eq!(row, [Some(7); 16]);
        s.read_row(b - 32, &mut row);
        assert_eq!(&row[..3], &[None, None, Some(INVALID)]);
    }

    #[test]
    fn tag_gen_avoids_and_is_uniform() {
        let g = TagGen::new();
        g.seed(0x1234_5678_9abc);
        let mut counts = [0u32; 16];
        let mut prev = g.next(0, &X86_64, &[]);
        for _ in 0..1_000_000 {
            let t = g.next(0, &X86_64, &[prev]);
            assert_ne!(t, prev);
            assert!(t <= X86_64.max);
            counts[t as usize] += 1;
            prev = t;
        }
        for (t, &c) in counts.iter().enumerate().take(14) {
            // Each of the 14 tags ~1/14 of the draws (71428).
            assert!((60_000..83_000).contains(&c), "tag {t}: {c}");
        }
        assert_eq!(counts[14] + counts[15], 0);
        // Three avoided values: the other 11 only.
        for _ in 0..10_000 {
            let t = g.next(1, &X86_64, &[2, 9, 13, KERNEL, INVALID]);
            assert!(![2, 9, 13].contains(&t) && t <= 13, "{t}");
        }
        // Everything avoided: still a tag in range.
        let all: Vec<u8> = (0..=13).collect();
        assert!(g.next(2, &X86_64, &all) <= 13);
        // TBI: 254 values.
        for _ in 0..1000 {
            assert!(g.next(3, &TBI, &[0]) <= 0xFD);
        }
    }

    #[test]
    fn slab_alloc_fresh_tags_and_kmalloc_layout() {
        let m = FakeTagMemory::new(1 << 16);
        let (t, _) = mode(&m);
        let b = m.base();
        t.poison_slab(b, 1 << 16);
        let obj = b + 256;
        // Neighbours tagged 4 and 9.
        t.shadow.poison(obj - 16, 16, 4);
        t.shadow.poison(obj + 32, 16, 9);
        let mut prev = KERNEL;
        for _ in 0..10_000 {
            let (p, tag) = t.slab_alloc(obj, 32, 13, TagPolicy::FreshEachAlloc, prev, 0);
            assert!(![4, 9, prev].contains(&tag) && tag <= 13, "{tag}");
            assert_eq!(Mode::untag(&t, p), obj);
            assert_eq!(t.tag_of(p), tag);
            assert_eq!(t.shadow.tag_at(obj), Some(tag));
            assert_eq!(t.shadow.tag_at(obj + 16), Some(INVALID), "kmalloc redzone");
            assert!(t.check(p, 16) && !t.check(p + 16, 1));
            assert_eq!(t.free_check(p), FreeCheck::Ok);
            prev = tag;
        }
        // kmalloc(0): nothing accessible.
        let (p, _) = t.slab_alloc(obj, 32, 0, TagPolicy::FreshEachAlloc, prev, 0);
        assert!(!t.check(p, 1));
        // Free: invalid, and the old pointer is now a double free.
        t.poison_free(obj, 32, false, false);
        assert_eq!(t.shadow.tag_at(obj + 16), Some(INVALID));
        assert_eq!(t.free_check(p), FreeCheck::Double);
        // Kept policy: the tag from slab init at every allocation.
        let kept = t.init_slab_obj(obj, TagPolicy::KeptFromSlabInit, 0);
        assert!(kept <= 13);
        assert_eq!(t.init_slab_obj(obj, TagPolicy::FreshEachAlloc, 0), KERNEL);
        for _ in 0..100 {
            let (p, tag) = t.slab_alloc(obj, 32, 32, TagPolicy::KeptFromSlabInit, kept, 0);
            assert_eq!(tag, kept);
            assert_eq!(t.tag_of(p), kept);
            t.poison_free(obj, 32, false, false);
        }
    }

    #[test]
    fn blocks_resize_and_unpoison_range() {
        let m = FakeTagMemory::new(1 << 16);
        let (t, _) = mode(&m);
        let b = m.base();
        t.poison_fresh(b, 1 << 16);
        let (p, tag) = t.unpoison_block(b + 4096, 8192, 5000, 3, BlockKind::Large, 0);
        assert_ne!(tag, 3);
        assert!(t.check(p, 5008));
        assert!(!t.check(p + 5008, 1));
        assert_eq!(t.shadow.tag_at(b + 4096 + 8192 - 16), Some(INVALID));
        // krealloc in place, smaller then larger, keeps the tag.
        t.resize(p, 100, 8192, BlockKind::Large);
        assert!(t.check(p, 112) && !t.check(p + 112, 1));
        t.resize(p, 7000, 8192, BlockKind::Large);
        assert!(t.check(p, 7008) && !t.check(p + 7008, 1));
        t.poison_free(b + 4096, 8192, true, false);
        assert!(!t.check(p, 1));
        t.unpoison_range(p, 64);
        assert!(t.check(p, 64) && !t.check(p + 64, 1));
    }

    fn slab_object(object: usize) -> ObjectInfo {
        ObjectInfo {
            cache: Name::new("kmalloc-32"),
            object,
            object_size: 32,
            backing: Backing::Slab,
            freed: false,
            alloc: None,
            free: None,
            aux: [Handle::NONE; 2],
            page: PageInfo {
                kind: PageKind::Slab,
                start: object & !4095,
                pages: 1,
                compound: false,
                objects: 1,
                inuse: 1,
                freelist: 0,
                gfp: 0,
            },
        }
    }

    #[test]
    fn report_view_uses_the_newest_ring_event() {
        let m = FakeTagMemory::new(1 << 16);
        let (t, r) = mode(&m);
        let b = m.base();
        t.poison_slab(b, 1 << 16);
        let obj = b + 512;
        let track = |pid| Track {
            pid,
            ..Track::default()
        };
        let (p, tag) = t.slab_alloc(obj, 32, 13, TagPolicy::FreshEachAlloc, KERNEL, 0);
        t.record(p, 32, false, &track(1), 0);
        let o = slab_object(obj);
        // Out of bounds into the redzone granule, through the object's pointer.
        let find = t.ring_find(p + 16, obj, 32).unwrap();
        assert_eq!(find.alloc.map(|a| a.pid), Some(1));
        assert_eq!(find.newest_is_free, Some(false));
        let fb = t.first_bad_addr(p + 16, 1);
        assert_eq!(fb, obj + 16);
        assert_eq!(
            t.bug_type(p + 16, 1, fb, Some(&o), Some(&find)),
            "slab-out-of-bounds"
        );
        assert_eq!(t.tags(p + 16, fb), Some((tag, INVALID)));
        assert_eq!(t.region_size(obj, 32), 16);
        t.poison_free(obj, 32, false, false);
        t.record(p, 32, true, &track(2), 0);
        let find = t.ring_find(p + 4, obj, 32).unwrap();
        assert_eq!(find.free.map(|f| f.pid), Some(2));
        assert_eq!(find.alloc.map(|a| a.pid), Some(1));
        assert_eq!(
            t.bug_type(p + 4, 1, obj, Some(&o), Some(&find)),
            "slab-use-after-free"
        );
        assert_eq!(t.region_size(obj, 32), 32, "freed: the cache's object size");
        // Another tag matches no entry: the common type.
        let other = FAKE_CARRIER.with_tag(obj, (tag + 1) % 14);
        let none = t.ring_find(other, obj, 32).unwrap();
        assert_eq!(none, RingFind::default());
        assert_eq!(
            t.bug_type(other, 1, obj, Some(&o), Some(&none)),
            "invalid-access"
        );
        assert_eq!(t.bug_type(other, 1, obj, None, None), "invalid-access");
        assert_eq!(
            t.bug_type(usize::MAX - 2, 8, 0, None, None),
            "out-of-bounds"
        );
        let mut pages = slab_object(obj);
        pages.backing = Backing::Pages(0);
        assert_eq!(
            t.bug_type(p + 4, 1, obj, Some(&pages), Some(&find)),
            "invalid-access"
        );
        assert_eq!(r.entries().len(), 2);
        assert!(!t.region_state_word());
        assert_eq!(ReportMode::granule(&t), 16);
        assert_eq!(ReportMode::name(&t), "sw-tags");
    }
}
