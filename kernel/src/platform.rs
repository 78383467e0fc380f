//! The core's `Platform` for the kernel (platform code): the task and CPU (one of
//! each), the TSC clock, the serial console, symbols from the image's own table,
//! word reads checked against the page tables, and halting QEMU. Also the one-time
//! cells the boot fills in (configuration, clock rate, command line).
#![allow(unsafe_code)]

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use kasan_core::config::Config;
use kasan_core::platform::{Platform, Symbol, Task};

use crate::io;

/// A value written once during boot, before anything reads it, then only read.
pub struct BootCell<T>(UnsafeCell<Option<T>>, AtomicBool);

// SAFETY: written once (`set`) before any reader runs (the boot is single-threaded
// and `set` publishes with Release), read-only afterwards.
unsafe impl<T: Sync> Sync for BootCell<T> {}

impl<T> core::fmt::Debug for BootCell<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("BootCell")
    }
}

impl<T> Default for BootCell<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> BootCell<T> {
    /// Empty.
    pub const fn new() -> BootCell<T> {
        BootCell(UnsafeCell::new(None), AtomicBool::new(false))
    }
    /// Sets the value; only the first call has an effect.
    pub fn set(&self, v: T) {
        // Relaxed: the boot CPU is the only one; the Release below publishes.
        if self.1.load(Ordering::Relaxed) {
            return;
        }
        // SAFETY: not set yet, so no reader holds a reference (readers see `None`
        // until the Release store below), and only the boot CPU runs.
        unsafe { *self.0.get() = Some(v) };
        // Release pairs with the Acquire in `get`.
        self.1.store(true, Ordering::Release);
    }
    /// The value, once set.
    pub fn get(&self) -> Option<&T> {
        // Acquire pairs with the Release in `set`.
        if !self.1.load(Ordering::Acquire) {
            return None;
        }
        // SAFETY: set, and never written again.
        unsafe { (*self.0.get()).as_ref() }
    }
}

/// The configuration (from the kernel command line).
pub static CONFIG: BootCell<Config> = BootCell::new();
/// TSC ticks per millisecond.
static TSC_PER_MS: AtomicU64 = AtomicU64::new(1_000_000);
/// TSC at boot.
static TSC_BOOT: AtomicU64 = AtomicU64::new(0);

/// Calibrates the clock (at boot).
pub fn init_clock(tsc_boot: u64) {
    // Relaxed: set before any reader, single CPU.
    TSC_BOOT.store(tsc_boot, Ordering::Relaxed);
    TSC_PER_MS.store(io::tsc_per_ms(), Ordering::Relaxed);
}

/// Nanoseconds since boot.
pub fn now_ns() -> u64 {
    // Relaxed: constants after boot.
    let per_ms = TSC_PER_MS.load(Ordering::Relaxed);
    let ticks = io::rdtsc().saturating_sub(TSC_BOOT.load(Ordering::Relaxed));
    (ticks as u128 * 1_000_000 / per_ms as u128) as u64
}

unsafe extern "C" {
    static __kallsyms: u8;
    static __text_start: u8;
    static __image_end: u8;
}

/// The symbol table `tools/kallsyms.py` appends to the image (little-endian):
///
/// ```text
///   u32 count | count x { u64 addr, u32 size, u32 name offset } | names (NUL-ended)
/// ```
///
/// sorted by address; an empty table is one zero word (the first link).
fn kallsyms() -> (&'static [u8], usize) {
    // SAFETY: the linker puts the table (or a zero word) at __kallsyms, inside the
    // loaded image, before __image_end; it is never written.
    unsafe {
        let start = core::ptr::addr_of!(__kallsyms);
        let end = core::ptr::addr_of!(__image_end) as usize;
        let bytes = core::slice::from_raw_parts(start, end - start as usize);
        let count = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
        (bytes, count)
    }
}

fn sym_entry(bytes: &[u8], i: usize) -> (usize, usize, usize) {
    let o = 4 + i * 16;
    let w = |a: usize, n: usize| {
        let mut v = 0usize;
        for k in (0..n).rev() {
            v = (v << 8) | bytes[a + k] as usize;
        }
        v
    };
    (w(o, 8), w(o + 8, 4), w(o + 12, 4))
}

/// The symbol at `addr`: name, start, size.
pub fn lookup(addr: usize) -> Option<(&'static str, usize, usize)> {
    let (bytes, count) = kallsyms();
    if count == 0 {
        return None;
    }
    // The last entry at or below addr.
    let (mut lo, mut hi) = (0, count);
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if sym_entry(bytes, mid).0 <= addr {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let (start, size, name) = sym_entry(bytes, lo);
    if start > addr || (size != 0 && addr >= start + size) {
        return None;
    }
    let names = 4 + count * 16;
    let s = &bytes[names + name..];
    let len = s.iter().position(|&b| b == 0)?;
    Some((core::str::from_utf8(&s[..len]).ok()?, start, size))
}

/// The kernel's platform.
#[derive(Debug)]
pub struct KernelPlatform;

impl Platform for KernelPlatform {
    fn task(&self) -> Task {
        Task::new(1, b"kasan_test")
    }
    fn cpu(&self) -> u32 {
        0
    }
    fn now_ns(&self) -> u64 {
        now_ns()
    }
    fn write(&self, text: &[u8]) {
        io::serial_write(text);
    }
    fn symbolize(&self, pc: usize, is_return: bool, f: &mut dyn FnMut(&Symbol<'_>)) {
        let at = if is_return { pc.wrapping_sub(1) } else { pc };
        if let Some((name, start, size)) = lookup(at) {
            f(&Symbol {
                name,
                offset: pc - start,
                size,
                file: None,
                line: None,
            });
        }
    }
    fn read_word(&self, addr: usize) -> Option<usize> {
        if !addr.is_multiple_of(8) || !crate::mm::mapped(addr) {
            return None;
        }
        // SAFETY: aligned and mapped (checked just now in the page tables; nothing
        // unmaps kernel memory concurrently: one CPU).
        Some(unsafe { (addr as *const usize).read_volatile() })
    }
    fn halt(&self, message: &str) -> ! {
        io::serial_write(message.as_bytes());
        io::qemu_exit(3)
    }
    fn page_frame(&self, addr: usize) -> usize {
        crate::mm::virt_to_phys(addr).map_or(addr >> 12, |p| p >> 12)
    }
    fn hardware_name(&self) -> Option<&str> {
        Some("QEMU Standard PC (i440FX + PIIX, 1996), BIOS (multiboot)")
    }
}

/// Whether `pc` is in the kernel's text.
pub fn in_text(pc: usize) -> bool {
    let (lo, hi) = (
        core::ptr::addr_of!(__text_start) as usize,
        core::ptr::addr_of!(__kallsyms) as usize,
    );
    (lo..hi).contains(&pc)
}
