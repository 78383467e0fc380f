//! Generic-mode shadow memory: the address map, the shadow byte values, poison and
//! unpoison, the size-specialised access checks, and the first bad address.
//!
//! One shadow byte describes one 8-byte granule:
//!
//! ```text
//!   shadow byte   meaning
//!   0x00          all 8 bytes accessible
//!   0x01..=0x07   only the first N bytes accessible (the partial last granule)
//!   0x80..=0xFF   nothing accessible; the value says why (see `encoding`)
//! ```
//!
//! # Safety
//!
//! This module is one of the few that touch raw memory. [`Shadow::new`] is the single
//! unsafe promise: every address in the covered range has a mapped, writable shadow byte
//! at `(addr >> 3) + offset`. Every method checks that an address is covered before it
//! touches that address's shadow, so all of them are safe to call with any address.

use core::ptr;

use crate::shadow_pages::{fill_shadow, ShadowPages, SHARE_MIN_PAGES, SHARE_MIN_POISON_PAGES};

/// log2 of the granule size.
pub const GRANULE_SHIFT: u32 = 3;
/// Bytes described by one shadow byte.
pub const GRANULE_SIZE: usize = 1 << GRANULE_SHIFT;
/// Mask of the offset inside a granule.
pub const GRANULE_MASK: usize = GRANULE_SIZE - 1;

/// The shadow byte values. Those marked "compiler ABI" are written by instrumented code
/// itself and must never change.
pub mod encoding {
    /// A page freed to the page allocator.
    pub const PAGE_FREE: u8 = 0xFF;
    /// The redzone after a page-backed (large) kmalloc object.
    pub const PAGE_REDZONE: u8 = 0xFE;
    /// A slab redzone, or a slot that holds no object.
    pub const SLAB_REDZONE: u8 = 0xFC;
    /// A freed slab object.
    pub const SLAB_FREE: u8 = 0xFB;
    /// The first granule of a freed slab object whose free track is valid.
    pub const SLAB_FREE_META: u8 = 0xFA;
    /// The redzone after a global variable.
    pub const GLOBAL_REDZONE: u8 = 0xF9;
    /// An unmapped or freed part of a vmalloc area (also the old use-after-scope value,
    /// which `__asan_set_shadow_f8` may still write).
    pub const VMALLOC_INVALID: u8 = 0xF8;
    /// Memory the program poisoned itself (`kasan_poison_range`,
    /// `__asan_poison_memory_region`); ASan's value.
    pub const USER_POISON: u8 = 0xF7;
    /// Stack left redzone (compiler ABI).
    pub const STACK_LEFT: u8 = 0xF1;
    /// Stack redzone between variables (compiler ABI).
    pub const STACK_MID: u8 = 0xF2;
    /// Stack right redzone (compiler ABI).
    pub const STACK_RIGHT: u8 = 0xF3;
    /// Stack partial redzone (compiler ABI).
    pub const STACK_PARTIAL: u8 = 0xF4;
    /// Left redzone of a dynamic alloca.
    pub const ALLOCA_LEFT: u8 = 0xCA;
    /// Right redzone of a dynamic alloca.
    pub const ALLOCA_RIGHT: u8 = 0xCB;
    /// Bytes of redzone around a dynamic alloca.
    pub const ALLOCA_REDZONE_SIZE: usize = 32;
    /// Frame marker the compiler writes at the base of an instrumented stack frame:
    /// `frame[0] = magic, frame[1] = description string, frame[2] = pc`.
    pub const STACK_FRAME_MAGIC: usize = 0x41B5_8AB3;
}

/// Rounds `x` up to a multiple of the granule.
#[inline(always)]
pub const fn round_up(x: usize) -> usize {
    (x + GRANULE_MASK) & !GRANULE_MASK
}

/// Rounds `x` down to a multiple of the granule.
#[inline(always)]
pub const fn round_down(x: usize) -> usize {
    x & !GRANULE_MASK
}

/// Writes `count` bytes of `value` at `at`, a word at a time where aligned.
///
/// Not `ptr::write_bytes`: that becomes a call to `memset`, which a hosted runtime
/// interposes and checks; shadow writes are the runtime's own and must stay cheap.
///
/// # Safety
///
/// `[at, at + count)` must be writable.
#[inline]
pub unsafe fn fill(mut at: usize, value: u8, count: usize) {
    let end = at + count;
    let word = u64::from_ne_bytes([value; 8]);
    while at < end && at & 7 != 0 {
        // SAFETY: `at` is in `[at, end)`, which the caller promises is writable.
        unsafe { ptr::write_volatile(at as *mut u8, value) };
        at += 1;
    }
    while at + 8 <= end {
        // SAFETY: as above; the word is 8-aligned and ends at or before `end`.
        unsafe { ptr::write_volatile(at as *mut u64, word) };
        at += 8;
    }
    while at < end {
        // SAFETY: as above.
        unsafe { ptr::write_volatile(at as *mut u8, value) };
        at += 1;
    }
}

/// A generic-mode shadow: where it lives, which memory it covers, and (optionally) the
/// platform's page backing, through which big fills share whole pages
/// ([`crate::shadow_pages`]).
#[derive(Clone, Copy)]
pub struct Shadow {
    offset: usize,
    start: usize,
    end: usize,
    pages: Option<&'static dyn ShadowPages>,
}

impl core::fmt::Debug for Shadow {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Shadow")
            .field("offset", &self.offset)
            .field("start", &self.start)
            .field("end", &self.end)
            .field("paged", &self.pages.is_some())
            .finish()
    }
}

impl Shadow {
    /// Describes a shadow at `offset` covering memory `[start, end)`.
    ///
    /// # Safety
    ///
    /// For every `addr` in `[start, end)`, the byte at `(addr >> 3).wrapping_add(offset)`
    /// must be mapped, readable and writable for as long as this value (or a copy) is
    /// used, and must not overlap `[start, end)` itself.
    pub const unsafe fn new(offset: usize, start: usize, end: usize) -> Shadow {
        Shadow {
            offset,
            start,
            end,
            pages: None,
        }
    }

    /// The same shadow with its pages backed by `pages`: fills that span
    /// [`SHARE_MIN_PAGES`] whole shadow pages or more map them to the platform's shared
    /// page of the value instead of writing them. The promise of [`Shadow::new`] is
    /// kept by the platform: its shared pages read as mapped memory.
    pub const fn with_pages(self, pages: &'static dyn ShadowPages) -> Shadow {
        Shadow {
            pages: Some(pages),
            ..self
        }
    }

    /// The page backing, if any.
    pub fn pages(&self) -> Option<&'static dyn ShadowPages> {
        self.pages
    }

    /// The covered memory range.
    pub fn range(&self) -> (usize, usize) {
        (self.start, self.end)
    }

    /// Whether `addr` has shadow (Linux's `addr_has_metadata`).
    #[inline(always)]
    pub fn has_metadata(&self, addr: usize) -> bool {
        addr.wrapping_sub(self.start) < self.end - self.start
    }

    /// The shadow byte's address for `addr` (no check that it is covered).
    #[inline(always)]
    pub fn shadow_addr(&self, addr: usize) -> usize {
        (addr >> GRANULE_SHIFT).wrapping_add(self.offset)
    }

    /// The memory address a shadow byte describes (Linux's `kasan_shadow_to_mem`).
    #[inline(always)]
    pub fn shadow_to_mem(&self, shadow: usize) -> usize {
        shadow.wrapping_sub(self.offset) << GRANULE_SHIFT
    }

    /// Reads the shadow of a covered address.
    #[inline(always)]
    fn load(&self, addr: usize) -> i8 {
        debug_assert!(self.has_metadata(addr));
        // SAFETY: callers only pass covered addresses, whose shadow byte is mapped
        // (the promise made to `Shadow::new`).
        unsafe { ptr::read_volatile(self.shadow_addr(addr) as *const i8) }
    }

    /// The shadow byte of `addr`, or `None` if it has no shadow.
    pub fn byte(&self, addr: usize) -> Option<u8> {
        if !self.has_metadata(addr) {
            return None;
        }
        if let Some(pages) = self.pages {
            if !pages.readable(self.shadow_addr(addr)) {
                return None;
            }
        }
        Some(self.load(addr) as u8)
    }

    /// Writes `value` into the shadow of `[addr, addr + size)`. Both ends are rounded
    /// out to granules and the part outside the covered range is ignored.
    pub fn poison(&self, addr: usize, size: usize, value: u8) {
        let begin = round_down(addr).max(round_up(self.start));
        let end = round_up(addr.saturating_add(size)).min(round_down(self.end));
        if begin >= end {
            return;
        }
        let first = self.shadow_addr(begin);
        let count = (end - begin) >> GRANULE_SHIFT;
        let min = if value == 0 {
            SHARE_MIN_PAGES
        } else {
            SHARE_MIN_POISON_PAGES
        };
        // SAFETY: `[begin, end)` lies inside the covered range, so its `count` shadow
        // bytes starting at `first` are mapped and writable (`Shadow::new`), or are
        // pages the platform shares (which `with_pages` promised keep that true).
        unsafe { fill_shadow(self.pages, first, first + count, value, min) };
    }

    /// Makes `[addr, addr + size)` accessible: whole granules get 0 and a partial last
    /// granule gets the count of its valid bytes. `addr` should be granule-aligned.
    pub fn unpoison(&self, addr: usize, size: usize) {
        debug_assert_eq!(addr & GRANULE_MASK, 0, "unpoison of an unaligned address");
        self.poison(addr, size, 0);
        let tail = size & GRANULE_MASK;
        if tail != 0 {
            let last = addr + size - tail;
            if self.has_metadata(last) {
                // SAFETY: `last` is covered, so its shadow byte is mapped (`Shadow::new`).
                unsafe { ptr::write_volatile(self.shadow_addr(last) as *mut u8, tail as u8) };
            }
        }
    }

    /// Poisons `[addr, addr + size)` for a program that manages its own memory
    /// (`kasan_poison_range`, `__asan_poison_memory_region`), by ASan's rule: a granule
    /// can only lose a suffix. A region that starts inside a granule keeps that
    /// granule's first bytes valid. A region that ends inside a granule poisons that
    /// granule's part only when every byte from the region's end on is unaddressable
    /// already (the granule's valid prefix ends inside the region): then the whole
    /// granule, or from the region's start, becomes bad; otherwise the granule is left
    /// alone, as its valid bytes would not be a prefix. So a 2-byte array followed by
    /// its redzone, or bytes 8 to 9 of a 10-byte object, can be poisoned.
    pub fn poison_user(&self, addr: usize, size: usize) {
        let end = addr.saturating_add(size);
        if size == 0 {
            return;
        }
        let (first, first_off) = (round_down(addr), addr & GRANULE_MASK);
        let (last, last_off) = (round_down(end), end & GRANULE_MASK);
        if first == last {
            // Inside one granule: only a valid prefix that ends in the region can be cut.
            if self.has_metadata(first) {
                let valid = self.load(first);
                if valid > 0 && valid as usize <= last_off {
                    let new = if first_off > 0 {
                        (valid as u8).min(first_off as u8)
                    } else {
                        encoding::USER_POISON
                    };
                    self.write_bytes_at(first, &[new]);
                }
            }
            return;
        }
        let mut p = addr;
        if first_off != 0 {
            if self.has_metadata(first) {
                let keep = first_off as i8;
                let old = self.load(first);
                if old == 0 || old > keep {
                    self.write_bytes_at(first, &[keep as u8]);
                }
            }
            p = first + GRANULE_SIZE;
        }
        if p < last {
            self.poison(p, last - p, encoding::USER_POISON);
        }
        if last_off != 0 && self.has_metadata(last) {
            let valid = self.load(last);
            if valid > 0 && valid as usize <= last_off {
                self.write_bytes_at(last, &[encoding::USER_POISON]);
            }
        }
    }

    /// Unpoisons `[addr, addr + size)` for a program that manages its own memory: the
    /// granules it touches become valid up to its end (ASan's rule).
    pub fn unpoison_user(&self, addr: usize, size: usize) {
        let end = addr.saturating_add(size);
        let begin = round_down(addr);
        if begin >= end {
            return;
        }
        self.poison(begin, round_down(end) - begin, 0);
        let tail = end & GRANULE_MASK;
        if tail != 0 && self.has_metadata(round_down(end)) {
            let old = self.load(round_down(end));
            if old < 0 || (old > 0 && (old as usize) < tail) {
                self.write_bytes_at(round_down(end), &[tail as u8]);
            }
        }
    }

    /// Writes raw shadow bytes starting at the shadow of `addr` (which must be covered,
    /// as must `addr + 8 * bytes.len() - 1`); used for the compiler's stack poisoning.
    pub fn write_bytes_at(&self, addr: usize, bytes: &[u8]) {
        let last = addr.wrapping_add((bytes.len() << GRANULE_SHIFT).saturating_sub(1));
        if bytes.is_empty() || !self.has_metadata(addr) || !self.has_metadata(last) {
            return;
        }
        let first = self.shadow_addr(addr);
        for (i, &b) in bytes.iter().enumerate() {
            // SAFETY: both ends are covered and the range is contiguous, so all
            // `bytes.len()` shadow bytes are mapped (`Shadow::new`).
            unsafe { ptr::write_volatile((first + i) as *mut u8, b) };
        }
    }

    /// Whether one byte at a covered `addr` is accessible.
    #[inline(always)]
    fn byte_ok(&self, addr: usize) -> bool {
        let s = self.load(addr);
        // A partial granule value N admits offsets 0..N; a negative value admits none.
        s == 0 || ((addr & GRANULE_MASK) as i8) < s
    }

    /// Whether the whole access `[addr, addr + size)` is accessible. The fast path of
    /// every check: one compare and one shadow load for the common case.
    #[inline(always)]
    pub fn check(&self, addr: usize, size: usize) -> bool {
        if size == 0 {
            return true;
        }
        let last = addr.wrapping_add(size - 1);
        if last < addr || !self.has_metadata(addr) || !self.has_metadata(last) {
            return false;
        }
        match size {
            1 => self.byte_ok(addr),
            2 | 4 | 8 => {
                // An access that crosses into the next granule needs the first granule
                // whole; either way its last byte decides the rest.
                if (last & GRANULE_MASK) < size - 1 && self.load(addr) != 0 {
                    return false;
                }
                self.byte_ok(last)
            }
            16 => {
                if addr & GRANULE_MASK == 0 {
                    self.load(addr) == 0 && self.load(addr + 8) == 0
                } else {
                    self.load(addr) == 0 && self.load(addr + 8) == 0 && self.byte_ok(last)
                }
            }
            _ => self.check_n(addr, last),
        }
    }

    /// The N-byte check: every granule but the last must be whole, the last must cover
    /// the last byte.
    #[inline(never)]
    fn check_n(&self, addr: usize, last: usize) -> bool {
        let first = self.shadow_addr(addr);
        let end = self.shadow_addr(last) + 1;
        match self.first_nonzero(first, end) {
            None => true,
            Some(s) if s == end - 1 => self.byte_ok(last),
            Some(_) => false,
        }
    }

    /// The address of the first non-zero shadow byte in `[from, to)`, in aligned
    /// shadow words: the first and last with the bytes outside the range masked off
    /// (a 32-byte `memcpy`'s five shadow bytes cost one or two loads), the words
    /// between four at a time (one load per 64 bytes of memory, OR-ed).
    fn first_nonzero(&self, from: usize, to: usize) -> Option<usize> {
        if from >= to {
            return None;
        }
        // Every read below is of an aligned word holding a byte of `[from, to)`.
        let read = |w: usize| {
            // SAFETY: `[from, to)` is the shadow of a covered range (checked by
            // callers); an aligned word holding any of its bytes lies in the same
            // shadow page as that byte (pages are 8-aligned), so it is mapped too.
            unsafe { ptr::read_volatile(w as *const u64) }
        };
        let found = |w: usize, m: u64| Some(w + (m.trailing_zeros() / 8) as usize);
        // The bytes `[lo, hi)` of the word at `w` (0 <= lo < hi <= 8).
        let masked = |w: usize, lo: usize, hi: usize| {
            let mut mask = u64::MAX << (lo * 8);
            if hi < 8 {
                mask &= (1u64 << (hi * 8)) - 1;
            }
            read(w) & mask
        };
        let mut w = from & !7;
        let m = masked(w, from - w, (to - w).min(8));
        if m != 0 {
            return found(w, m);
        }
        w += 8;
        while w + 32 <= to && read(w) | read(w + 8) | read(w + 16) | read(w + 24) == 0 {
            w += 32;
        }
        while w + 8 <= to {
            let v = read(w);
            if v != 0 {
                return found(w, v);
            }
            w += 8;
        }
        if w < to {
            let m = masked(w, 0, to - w);
            if m != 0 {
                return found(w, m);
            }
        }
        None
    }

    /// The first bad address of an access: stepping a granule at a time from `addr`,
    /// the first address whose shadow is not 0, which may lie just past the access
    /// when its last granule is the partial or bad one (Linux's generic
    /// `kasan_find_first_bad_addr`); `addr` itself if it has no shadow.
    pub fn first_bad_addr(&self, addr: usize, size: usize) -> usize {
        let mut p = addr;
        if !self.has_metadata(p) {
            return p;
        }
        let end = addr.saturating_add(size);
        while p < end && self.has_metadata(p) && self.load(p) == 0 {
            p += GRANULE_SIZE;
        }
        p
    }

    /// Whether the byte at `addr` is accessible (Linux's `kasan_byte_accessible`): a
    /// free of a pointer whose first byte is not is a double free.
    pub fn byte_accessible(&self, addr: usize) -> bool {
        self.has_metadata(addr) && {
            let s = self.load(addr);
            (0..GRANULE_SIZE as i8).contains(&s)
        }
    }

    /// The size of the valid region starting at `object`, read from shadow: 8 per
    /// whole granule, N for a partial one, stopping at the first other value or at
    /// `limit` bytes (Linux's generic `kasan_get_alloc_size`).
    pub fn valid_size(&self, object: usize, limit: usize) -> usize {
        let mut size = 0;
        while size < limit && self.has_metadata(object + size) {
            match self.load(object + size) {
                0 => size += GRANULE_SIZE,
                s @ 1..=7 => return size + s as usize,
                _ => break,
            }
        }
        size.min(limit)
    }

    /// Copies the shadow bytes of the granules starting at `addr` into `out`; granules
    /// without shadow read as `None` (the memory dump prints what exists).
    pub fn read_row(&self, addr: usize, out: &mut [Option<u8>]) {
        for (i, slot) in out.iter_mut().enumerate() {
            *slot = self.byte(addr.wrapping_add(i << GRANULE_SHIFT));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::encoding::*;
    use super::*;
    use crate::testing::FakeMemory;

    #[test]
    fn unpoison_writes_the_partial_last_granule() {
        let m = FakeMemory::new(4096);
        let s = m.shadow();
        let base = m.base();
        s.poison(base, 64, SLAB_REDZONE);
        s.unpoison(base, 13);
        assert_eq!(s.byte(base), Some(0));
        assert_eq!(s.byte(base + 8), Some(5));
        assert_eq!(s.byte(base + 16), Some(SLAB_REDZONE));
        assert_eq!(s.valid_size(base, 64), 13);
        assert!(s.check(base, 13));
        assert!(s.check(base + 12, 1));
        assert!(!s.check(base + 13, 1));
        assert!(!s.check(base + 8, 8));
        assert!(s.check(base + 8, 4));
        assert!(!s.check(base + 10, 4));
        assert_eq!(s.first_bad_addr(base + 12, 4), base + 12);
        assert_eq!(s.first_bad_addr(base + 4, 12), base + 12);
        // A 4-byte load at +6 of an 8-byte object steps past the access into the
        // redzone granule, as Linux does.
        s.unpoison(base, 8);
        assert_eq!(s.first_bad_addr(base + 6, 4), base + 14);
    }

    #[test]
    fn unaligned_accesses_crossing_a_granule() {
        let m = FakeMemory::new(4096);
        let s = m.shadow();
        let base = m.base();
        s.poison(base, 32, SLAB_REDZONE);
        s.unpoison(base, 16);
        assert!(s.check(base + 6, 2));
        assert!(s.check(base + 7, 8) && s.check(base + 1, 4));
        assert!(!s.check(base + 13, 4));
        assert!(!s.check(base + 9, 8));
        assert!(!s.check(base + 15, 2));
        assert!(s.check(base, 16));
        assert!(!s.check(base + 1, 16));
        assert!(!s.check(base + 8, 16));
        s.unpoison(base, 20);
        assert!(s.check(base + 3, 16));
        assert!(!s.check(base + 5, 16));
    }

    #[test]
    fn n_byte_check_matches_a_byte_loop() {
        let m = FakeMemory::new(4096);
        let s = m.shadow();
        let base = m.base();
        // A pseudo-random pattern of objects and redzones, compared exhaustively with
        // a byte-by-byte model for every (offset, size) pair.
        let mut valid = [false; 512];
        let mut x = 12345u32;
        let mut at = 0;
        s.poison(base, 512, SLAB_REDZONE);
        while at + 64 <= 512 {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let len = (x >> 16) as usize % 40;
            s.unpoison(base + at, len);
            valid[at..at + len].iter_mut().for_each(|v| *v = true);
            at += round_up(len) + 8 * ((x >> 8) as usize % 3);
        }
        for off in 0..400 {
            for size in 1..=100 {
                let expect = valid[off..off + size].iter().all(|v| *v);
                assert_eq!(s.check(base + off, size), expect, "off {off} size {size}");
            }
        }
    }

    /// Long ranges (the four-words-at-a-time loop): one bad granule anywhere in a
    /// good region fails exactly the ranges that touch it.
    #[test]
    fn long_range_check_finds_one_bad_granule() {
        let m = FakeMemory::new(8192);
        let s = m.shadow();
        let base = m.base();
        for bad in (0..3072).step_by(56) {
            s.unpoison(base, 3072);
            s.poison(base + (bad & !7), 8, SLAB_REDZONE);
            let g = bad & !7;
            for off in (0..1024).step_by(13) {
                for size in [33, 257, 511, 1024, 1500, 2000] {
                    let expect = off + size <= g || off >= g + 8;
                    assert_eq!(
                        s.check(base + off, size),
                        expect,
                        "bad {g} off {off} size {size}"
                    );
                }
            }
        }
    }

    #[test]
    fn user_poisoning_keeps_valid_prefixes() {
        let m = FakeMemory::new(4096);
        let s = m.shadow();
        let b = m.base();
        s.poison_user(b + 4, 20);
        assert!(s.check(b, 4) && !s.check(b + 4, 1));
        assert!(!s.check(b + 8, 8));
        // The region ends at 24, a granule boundary, so [16, 24) is poisoned whole.
        assert!(!s.check(b + 16, 8));
        assert!(s.check(b + 24, 8));
        s.unpoison_user(b + 8, 11);
        assert!(s.check(b + 8, 11) && !s.check(b + 19, 1));
        s.poison_user(b + 64, 3);
        assert!(s.check(b + 64, 8));
    }

    #[test]
    fn user_poisoning_takes_a_partial_last_granule_whose_rest_is_bad() {
        let m = FakeMemory::new(4096);
        let s = m.shadow();
        let b = m.base();
        // A 2-byte array followed by a redzone: poisoning the whole array takes effect.
        s.poison(b, 16, STACK_RIGHT);
        s.unpoison(b, 2);
        s.poison_user(b, 2);
        assert_eq!(s.byte(b), Some(USER_POISON));
        assert!(!s.check(b, 1));
        s.unpoison_user(b, 2);
        assert_eq!(s.byte(b), Some(2));
        // Poisoning only its second byte keeps the first.
        s.poison_user(b + 1, 1);
        assert_eq!(s.byte(b), Some(1));
        assert!(s.check(b, 1) && !s.check(b + 1, 1));
        // Poisoning a first byte alone cannot leave a valid suffix: ignored.
        s.unpoison_user(b, 2);
        s.poison_user(b, 1);
        assert_eq!(s.byte(b), Some(2));
        // A region ending before the valid prefix ends is ignored too.
        s.poison(b + 64, 16, SLAB_REDZONE);
        s.unpoison(b + 64, 6);
        s.poison_user(b + 66, 2);
        assert_eq!(s.byte(b + 64), Some(6));
        // Bytes 8 to 9 of a 10-byte object: the second granule becomes bad.
        s.poison(b + 128, 32, SLAB_REDZONE);
        s.unpoison(b + 128, 10);
        s.poison_user(b + 136, 2);
        assert_eq!(s.byte(b + 136), Some(USER_POISON));
        assert!(s.check(b + 128, 8) && !s.check(b + 136, 1));
        // A region across granules whose end granule's rest is bad: poisoned to its end.
        s.unpoison_user(b + 128, 10);
        s.poison_user(b + 132, 6);
        assert_eq!(s.byte(b + 128), Some(4));
        assert_eq!(s.byte(b + 136), Some(USER_POISON));
        // The same across granules where the end granule stays valid past the region.
        s.unpoison(b + 128, 16);
        s.poison_user(b + 132, 6);
        assert_eq!(s.byte(b + 128), Some(4));
        assert_eq!(s.byte(b + 136), Some(0));
        // An already poisoned granule keeps its value.
        s.poison(b + 192, 16, SLAB_FREE);
        s.poison_user(b + 192, 3);
        s.poison_user(b + 196, 8);
        assert_eq!(s.byte(b + 192), Some(SLAB_FREE));
        assert_eq!(s.byte(b + 200), Some(SLAB_FREE));
    }

    #[test]
    fn addresses_without_shadow_and_wrapping_ranges_fail() {
        let m = FakeMemory::new(4096);
        let s = m.shadow();
        assert!(!s.check(0, 1));
        assert!(!s.check(m.base() + 4090, 8));
        assert!(!s.check(m.base(), usize::MAX));
        assert!(s.check(m.base(), 0));
        assert!(!s.byte_accessible(0));
        s.poison(m.base(), 8, SLAB_FREE);
        assert!(!s.byte_accessible(m.base()));
        // Poisoning outside the covered range is clipped, not a crash.
        s.poison(m.base().wrapping_sub(64), 1 << 20, 0);
        assert!(s.byte_accessible(m.base()));
    }
}
