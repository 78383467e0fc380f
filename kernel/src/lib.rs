//! A bare-metal x86-64 kernel sanitized by kasan-core and kasan-slab, booted by
//! QEMU (multiboot). It maps its own shadow at Linux's offset (the early shadow: one
//! read-only zero page everywhere; real pages as memory is used, given back when it
//! is freed; the vmalloc space's shadow populated on demand), serves kmalloc,
//! kmem_cache, pages, vmalloc and mempools from kasan-slab, reports in Linux's
//! format over the serial port, runs the in-kernel KASAN suite (C built with gcc's
//! `-fsanitize=kernel-address`), prints the shadow it mapped, and powers off.
#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod abi;
pub mod io;
pub mod mm;
pub mod platform;
pub mod runtime;
pub mod suite;
pub mod trap;

use core::fmt::Write;
use core::sync::atomic::Ordering;

use kasan_core::config::Config;

/// A formatting buffer on the stack (the core never allocates, nor does the kernel).
#[derive(Debug)]
pub struct Buf<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl<'a> Buf<'a> {
    /// Empty, over `buf`.
    pub fn new(buf: &'a mut [u8]) -> Buf<'a> {
        Buf { buf, len: 0 }
    }
    /// What was written (cut at the buffer's end).
    pub fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl Write for Buf<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let n = s.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

/// Prints a formatted line on the console.
pub fn say(args: core::fmt::Arguments<'_>) {
    let mut buf = [0u8; 1024];
    let mut w = Buf::new(&mut buf);
    let _ = w.write_fmt(args);
    io::serial_write(w.bytes());
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    say(format_args!("Kernel panic - not syncing: {info}\n"));
    io::qemu_exit(3)
}

/// Physical memory plan (QEMU `-m 256M`).
const HEAP_PHYS: (usize, usize) = (16 << 20, 112 << 20);
const VMALLOC_PHYS: usize = 112 << 20;
const PERMANENT_PHYS: (usize, usize) = (144 << 20, 160 << 20);
const FRAMES_LO: usize = 160 << 20;

/// The entry from boot.S, on the boot stack in the higher half.
#[unsafe(no_mangle)]
pub extern "C" fn kmain(mb_info: u32) -> ! {
    let tsc0 = io::rdtsc();
    io::serial_init();
    platform::init_clock(tsc0);
    trap::init();
    let info = read_multiboot(mb_info as usize);
    say(format_args!(
        "kasan-kernel: x86-64, multiboot, {} MiB RAM, command line: {}\n",
        info.ram >> 20,
        info.cmdline
    ));
    if info.ram < 240 << 20 {
        say(format_args!(
            "kasan-kernel: needs 256 MiB of RAM (-m 256M)\n"
        ));
        io::qemu_exit(3);
    }
    let config = Config::parse(info.cmdline, |e| {
        say(format_args!("kasan: {e}\n"));
    });
    platform::CONFIG.set(config);
    mm::init_frames(FRAMES_LO, info.ram, PERMANENT_PHYS.0, PERMANENT_PHYS.1);
    if !mm::init_shadow() {
        say(format_args!(
            "kasan-kernel: no memory for the early shadow\n"
        ));
        io::qemu_exit(3);
    }
    // Inline stack poisoning writes the stack's shadow directly: make it real first.
    let (lo, hi) = runtime::stack_bounds();
    let (slo, shi) = (mm::shadow_of(lo), mm::shadow_of(hi));
    let (slo, shi) = (slo & !(mm::PAGE - 1), shi.next_multiple_of(mm::PAGE));
    if !kasan_core::shadow_pages::ShadowPages::make_private(&runtime::PAGES, slo, shi - slo) {
        io::qemu_exit(3);
    }
    if !runtime::init_heap(mm::dm(HEAP_PHYS.0), mm::dm(HEAP_PHYS.1), VMALLOC_PHYS) {
        say(format_args!("kasan-kernel: heap set-up failed\n"));
        io::qemu_exit(3);
    }
    abi::run_constructors();
    let enabled = runtime::config().enabled;
    say(format_args!(
        "kasan: KernelAddressSanitizer {} (generic, inline, shadow offset {:#x})\n",
        if enabled {
            "initialized"
        } else {
            "disabled (kasan=off)"
        },
        mm::SHADOW_OFFSET
    ));
    let t_suite = platform::now_ns();
    let totals = suite::run();
    let t_end = platform::now_ns();
    // Purge the lazily freed vmalloc areas (their shadow goes back) and drop the
    // quarantine's hold, as a quiet kernel would over time.
    abi::vm_unmap_aliases();
    let real = mm::SHADOW_REAL.load(Ordering::Relaxed);
    let peak = mm::SHADOW_REAL_PEAK.load(Ordering::Relaxed);
    let tables = mm::SHADOW_TABLES.load(Ordering::Relaxed);
    let flat = info.ram / 8;
    say(format_args!(
        "kasan: shadow mapped: {} KiB real now ({} pages), {} KiB at most, {} KiB of \
         shadow page tables; a flat 1/8 shadow of {} MiB RAM: {} KiB ({:.1}x more than \
         the peak)\n",
        real * 4,
        real,
        peak * 4,
        tables * 4,
        info.ram >> 20,
        flat >> 10,
        flat as f64 / ((peak + tables).max(1) * mm::PAGE) as f64
    ));
    say(format_args!(
        "kasan: boot to suite {} us, suite {} us, total {} us\n",
        t_suite / 1000,
        (t_end - t_suite) / 1000,
        t_end / 1000
    ));
    say(format_args!(
        "kasan: expectations: {} caught, {} missed; {} case(s) skipped\n",
        totals.caught, totals.missed, totals.skipped
    ));
    say(format_args!(
        "{} passed, {} failed\n",
        totals.passed, totals.failed
    ));
    io::qemu_exit(if totals.failed == 0 { 0 } else { 1 })
}

struct BootInfo {
    ram: usize,
    cmdline: &'static str,
}

/// The multiboot information: upper memory (KiB above 1 MiB) and the command line.
fn read_multiboot(phys: usize) -> BootInfo {
    static CMDLINE: platform::BootCell<([u8; 1024], usize)> = platform::BootCell::new();
    let word = |off: usize| platform_read_u32(mm::dm(phys + off));
    let flags = word(0);
    let ram = if flags & 1 != 0 {
        (word(8) as usize + 1024) << 10
    } else {
        0
    };
    let mut buf = ([0u8; 1024], 0);
    if flags & 4 != 0 {
        let at = mm::dm(word(16) as usize);
        while buf.1 < buf.0.len() {
            let b = platform_read_u8(at + buf.1);
            if b == 0 {
                break;
            }
            buf.0[buf.1] = b;
            buf.1 += 1;
        }
    }
    CMDLINE.set(buf);
    // QEMU's multiboot command line starts with the kernel's file name.
    let cmdline = CMDLINE
        .get()
        .and_then(|(b, n)| core::str::from_utf8(&b[..*n]).ok())
        .map_or("", |s| {
            s.split_once(' ').map_or("", |(_, rest)| rest.trim())
        });
    BootInfo { ram, cmdline }
}

fn platform_read_u32(addr: usize) -> u32 {
    u32::from_le_bytes([
        platform_read_u8(addr),
        platform_read_u8(addr + 1),
        platform_read_u8(addr + 2),
        platform_read_u8(addr + 3),
    ])
}

fn platform_read_u8(addr: usize) -> u8 {
    mm::read_boot_byte(addr)
}
