//! A fake platform for the core's unit tests: heap-backed memory with its own shadow
//! (generic) or tag shadow (sw-tags), a console that collects text, fixed task/CPU
//! ids, a ticking clock and a stack ring under a mutex. Every mode runs on it.
#![allow(unsafe_code)]

extern crate std;

use core::sync::atomic::{AtomicU64, Ordering};
use std::string::String;
use std::sync::Mutex;
use std::vec;
use std::vec::Vec;

use crate::mode::{Clock, Ring, RingFind};
use crate::platform::{Platform, Symbol, Task};
use crate::report::Track;
use crate::shadow::{Shadow, GRANULE_SHIFT};
use crate::stack::{PoolSource, StackDepot};
use crate::sw_tags::{TagCarrier, TagScheme, TagShadow, TopBitsCarrier};

/// A block of test memory and the shadow that covers it.
#[derive(Debug)]
pub struct FakeMemory {
    memory: Vec<u64>,
    shadow_bytes: Vec<u8>,
    size: usize,
}

impl FakeMemory {
    /// `size` bytes of zeroed memory (rounded up to 8), all unpoisoned.
    pub fn new(size: usize) -> FakeMemory {
        // One spare page so the base can be page-aligned, as real memory is.
        let memory = vec![0u64; size.div_ceil(8) + 512];
        let shadow_bytes = vec![0u8; memory.len()];
        FakeMemory {
            memory,
            shadow_bytes,
            size: size.next_multiple_of(8),
        }
    }

    /// The first address of the memory (page-aligned).
    pub fn base(&self) -> usize {
        (self.memory.as_ptr() as usize).next_multiple_of(4096)
    }

    /// The shadow covering exactly this memory.
    pub fn shadow(&self) -> Shadow {
        let base = self.base();
        let start = self.memory.as_ptr() as usize;
        let offset = (self.shadow_bytes.as_ptr() as usize).wrapping_sub(start >> GRANULE_SHIFT);
        // SAFETY: `shadow_bytes` has one byte per 8-byte granule of `memory`, lives as
        // long as `self`, and tests use the returned value only while `self` lives.
        unsafe { Shadow::new(offset, base, base + self.size) }
    }
}

/// A platform whose console is a string.
#[derive(Debug, Default)]
pub struct FakePlatform {
    /// Everything written to the console.
    pub console: Mutex<String>,
}

impl FakePlatform {
    /// Takes the console text written so far.
    pub fn take(&self) -> String {
        core::mem::take(&mut *self.console.lock().unwrap())
    }
}

impl Platform for FakePlatform {
    fn task(&self) -> Task {
        Task::new(7, b"kunit_try_catch")
    }
    fn cpu(&self) -> u32 {
        1
    }
    fn now_ns(&self) -> u64 {
        1_500_000_000
    }
    fn write(&self, text: &[u8]) {
        self.console
            .lock()
            .unwrap()
            .push_str(core::str::from_utf8(text).unwrap());
    }
    fn symbolize(&self, pc: usize, is_return: bool, f: &mut dyn FnMut(&Symbol<'_>)) {
        // Code addresses 0x1000..0x2000 belong to "test_fn" (size 0x100 each block).
        if (0x1000..0x2000).contains(&pc) {
            let start = pc & !0xff;
            f(&Symbol {
                name: if start == 0x1000 {
                    "kmalloc_oob_right"
                } else {
                    "kunit_try_run_case"
                },
                offset: pc - start,
                size: 0x100,
                file: Some("mm/kasan/kasan_test.c"),
                line: Some(42 + (pc - start) as u32 - u32::from(is_return)),
            });
        }
    }
    fn read_word(&self, _addr: usize) -> Option<usize> {
        None
    }
    fn halt(&self, message: &str) -> ! {
        panic!("halt: {message}")
    }
}

/// A block of test memory with a tag shadow (one byte per 16-byte granule), all tags
/// 0 to begin with.
#[derive(Debug)]
pub struct FakeTagMemory {
    memory: Vec<u64>,
    shadow_bytes: Vec<u8>,
    size: usize,
}

impl FakeTagMemory {
    /// `size` bytes of zeroed memory (rounded up to 16) and its tag shadow.
    pub fn new(size: usize) -> FakeTagMemory {
        // One spare page so the base can be page-aligned, as real memory is.
        let memory = vec![0u64; size.div_ceil(8) + 1024];
        let shadow_bytes = vec![0u8; memory.len() / 2 + 2];
        FakeTagMemory {
            memory,
            shadow_bytes,
            size: size.next_multiple_of(16),
        }
    }

    /// The first address of the memory (page-aligned).
    pub fn base(&self) -> usize {
        (self.memory.as_ptr() as usize).next_multiple_of(4096)
    }

    /// The tag shadow covering exactly this memory, tags carried by `carrier`.
    pub fn shadow<C: TagCarrier>(&self, carrier: C, scheme: TagScheme) -> TagShadow<C> {
        let base = self.base();
        let start = self.memory.as_ptr() as usize;
        let offset = (self.shadow_bytes.as_ptr() as usize).wrapping_sub(start >> 4);
        // SAFETY: `shadow_bytes` has one byte per 16-byte granule of `memory` (plus
        // one for the granule `start` shares with its predecessor), lives as long as
        // `self`, and tests use the returned value only while `self` lives.
        unsafe { TagShadow::new(offset, base, base + self.size, carrier, scheme) }
    }
}

/// The carrier unit tests use: 4-bit tags in bits 56..59 of a user-space address
/// (tagged pointers are not dereferenceable; the heap dereferences untagged ones).
pub const FAKE_CARRIER: TopBitsCarrier = TopBitsCarrier {
    shift: 56,
    width: 4,
    native: 0,
};

/// Maps depot pools from the test process's heap (never freed).
#[derive(Debug, Default)]
pub struct FakePools;

impl PoolSource for FakePools {
    fn map_pool(&self, bytes: usize) -> Option<*mut u8> {
        let layout = std::alloc::Layout::from_size_align(bytes, 4096).ok()?;
        // SAFETY: a non-zero size; the memory is never freed, as the depot expects.
        let p = unsafe { std::alloc::alloc_zeroed(layout) };
        (!p.is_null()).then_some(p)
    }
}

/// A clock that ticks once per read.
#[derive(Debug, Default)]
pub struct FakeClock(pub AtomicU64);

impl Clock for FakeClock {
    fn now(&self) -> u64 {
        // Relaxed: a counter; no other memory is published with it.
        self.0.fetch_add(1, Ordering::Relaxed) + 1
    }
}

/// One event of a [`FakeRing`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FakeEntry {
    /// The tagged object pointer.
    pub tagged: usize,
    /// The cache's object size.
    pub size: u32,
    /// A free (true) or an alloc.
    pub is_free: bool,
    /// The track (its stack owned by the ring).
    pub track: Track,
}

/// A stack ring for unit tests: the newest `cap` events under a mutex, the stacks of
/// overwritten ones put back into the depot (Linux 6.8+ eviction), and Linux's
/// newest-first scan.
#[derive(Debug)]
pub struct FakeRing {
    depot: &'static StackDepot,
    cap: usize,
    entries: Mutex<Vec<FakeEntry>>,
}

impl FakeRing {
    /// A ring of `cap` entries owning handles of `depot`.
    pub fn new(depot: &'static StackDepot, cap: usize) -> FakeRing {
        FakeRing {
            depot,
            cap: cap.max(1),
            entries: Mutex::new(Vec::new()),
        }
    }

    /// The events held, oldest first.
    pub fn entries(&self) -> Vec<FakeEntry> {
        self.entries.lock().unwrap().clone()
    }

    /// Drops every event, putting its stack.
    pub fn clear(&self) {
        for e in core::mem::take(&mut *self.entries.lock().unwrap()) {
            self.depot.put(e.track.stack);
        }
    }
}

impl Ring for FakeRing {
    fn record(&self, tagged: usize, object_size: u32, is_free: bool, track: &Track, _cpu: usize) {
        let mut entries = self.entries.lock().unwrap();
        entries.push(FakeEntry {
            tagged,
            size: object_size,
            is_free,
            track: *track,
        });
        if entries.len() > self.cap {
            let old = entries.remove(0);
            self.depot.put(old.track.stack);
        }
    }

    fn find(&self, tagged: usize, object_size: u32) -> RingFind {
        let entries = self.entries.lock().unwrap();
        let mut found = RingFind::default();
        for e in entries.iter().rev() {
            if e.tagged != tagged || e.size != object_size {
                continue;
            }
            if e.is_free {
                if found.free.is_some() {
                    break;
                }
                found.free = Some(e.track);
            } else {
                if found.alloc.is_some() {
                    break;
                }
                found.alloc = Some(e.track);
            }
            found.newest_is_free.get_or_insert(e.is_free);
            if found.alloc.is_some() && found.free.is_some() {
                break;
            }
        }
        found
    }
}
