//! A fake platform for the core's unit tests: heap-backed memory with its own shadow,
//! a console that collects text, and fixed task/CPU ids. Every mode runs on it.
#![allow(unsafe_code)]

extern crate std;

use std::string::String;
use std::sync::Mutex;
use std::vec;
use std::vec::Vec;

use crate::platform::{Platform, Symbol, Task};
use crate::shadow::{Shadow, GRANULE_SHIFT};

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
