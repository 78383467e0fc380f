//! The kernel's memory (platform code): physical frames, its page tables, the
//! vmalloc space's mapping, and the shadow's pages ([`KernelShadow`], the core's
//! `ShadowPages` contract for a kernel).
//!
//! Virtual layout (x86-64 4-level paging, Linux's addresses):
//!
//! ```text
//!   0xffff888000000000  direct map of RAM (2 MiB pages): heap arena, frames
//!   0xffffc90000000000  vmalloc space (4 KiB pages, guard pages not present)
//!   0xffffec0000000000  shadow of the upper half (16 TiB at 1/8), offset
//!   ..0xfffffc0000000000  0xdffffc0000000000: every page starts as the early
//!                       shadow (one read-only zero page), except the vmalloc
//!                       space's shadow, which starts unmapped
//!   0xffffffff80000000  kernel image (2 MiB pages)
//! ```
//!
//! The early shadow is Linux's: one zero page, one page table whose 512 entries map
//! it, one page directory of that table, one PDPT of that directory, and every
//! shadow PML4 entry pointing at the PDPT: 16 TiB of shadow in four pages. A shadow
//! page becomes real by `make_private`: the path to it is split (each early table
//! on it copied into a private one) and a fresh frame, a copy of the shared page,
//! is installed writable. `share` points an entry back at the zero page or at a
//! read-only page of one poison value and frees the private frame.
#![allow(unsafe_code)]

use core::sync::atomic::{AtomicUsize, Ordering};

use kasan_core::shadow::encoding::{PAGE_FREE, VMALLOC_INVALID};
use kasan_core::shadow_pages::ShadowPages;
use kasan_core::sync::SpinLock;

use crate::io::invlpg;

/// A page.
pub const PAGE: usize = 4096;
/// Where the kernel image is linked: physical address + this.
pub const KVMA: usize = 0xffff_ffff_8000_0000;
/// The direct map of RAM.
pub const DIRECT: usize = 0xffff_8880_0000_0000;
/// gcc's and clang's `-fsanitize=kernel-address` shadow offset on x86-64.
pub const SHADOW_OFFSET: usize = 0xdfff_fc00_0000_0000;
/// The shadow region: the shadow of `[0xffff800000000000, 2^64)`.
pub const SHADOW_START: usize = 0xffff_ec00_0000_0000;
/// End of the shadow region.
pub const SHADOW_END: usize = 0xffff_fc00_0000_0000;
/// The vmalloc space.
pub const VMALLOC_START: usize = 0xffff_c900_0000_0000;
/// Its size.
pub const VMALLOC_SIZE: usize = 32 << 20;

const P: u64 = 1;
const W: u64 = 2;
const HUGE: u64 = 0x80;
const NX: u64 = 1 << 63;
const ADDR: u64 = 0x000f_ffff_ffff_f000;

/// The shadow address of `addr`.
pub const fn shadow_of(addr: usize) -> usize {
    (addr >> 3).wrapping_add(SHADOW_OFFSET)
}

/// The direct-map address of physical address `phys`.
pub const fn dm(phys: usize) -> usize {
    phys + DIRECT
}

unsafe extern "C" {
    static boot_pml4: u8;
}

/// The physical address of the PML4 (the boot one, kept).
fn pml4() -> usize {
    // The symbol lies in the identity-linked boot section: its address is physical.
    core::ptr::addr_of!(boot_pml4) as usize
}

/// Free 4 KiB frames for page tables and shadow (a free list through the frames'
/// first word, then a bump over the rest), and a bump of permanent memory.
#[derive(Debug)]
struct Frames {
    next: usize,
    end: usize,
    free: usize,
    used: usize,
}

static FRAMES: SpinLock<Frames> = SpinLock::new(Frames {
    next: 0,
    end: 0,
    free: 0,
    used: 0,
});
static PERMANENT: SpinLock<(usize, usize)> = SpinLock::new((0, 0));
/// Page-table changes (Linux: `init_mm.page_table_lock`).
static PT_LOCK: SpinLock<()> = SpinLock::new(());

/// Shadow pages that are real (a private frame each), now and at most.
pub static SHADOW_REAL: AtomicUsize = AtomicUsize::new(0);
/// The most shadow pages real at once.
pub static SHADOW_REAL_PEAK: AtomicUsize = AtomicUsize::new(0);
/// Page tables made for the shadow region (split from the early ones or new).
pub static SHADOW_TABLES: AtomicUsize = AtomicUsize::new(0);

/// The shared pages and early tables (physical addresses), set by [`init`].
static ZERO: AtomicUsize = AtomicUsize::new(0);
static POISON_FREE: AtomicUsize = AtomicUsize::new(0);
static POISON_VMALLOC: AtomicUsize = AtomicUsize::new(0);
static EARLY: [AtomicUsize; 3] = [
    AtomicUsize::new(0),
    AtomicUsize::new(0),
    AtomicUsize::new(0),
];

/// Hands out `[lo, hi)` (physical, page-aligned) as frames and `[perm_lo, perm_hi)`
/// as permanent memory. Called once, before anything else here.
pub fn init_frames(lo: usize, hi: usize, perm_lo: usize, perm_hi: usize) {
    *FRAMES.lock() = Frames {
        next: lo,
        end: hi,
        free: 0,
        used: 0,
    };
    *PERMANENT.lock() = (perm_lo, perm_hi);
}

/// A zeroed frame (physical address).
pub fn alloc_frame() -> Option<usize> {
    let phys = {
        let mut f = FRAMES.lock();
        let phys = if f.free != 0 {
            let p = f.free;
            // SAFETY: a free frame holds the next free frame's address in its first
            // word (written by `free_frame`), in the direct map.
            f.free = unsafe { *(dm(p) as *const usize) };
            p
        } else if f.next < f.end {
            f.next += PAGE;
            f.next - PAGE
        } else {
            return None;
        };
        f.used += 1;
        phys
    };
    // SAFETY: the frame is ours alone now and mapped in the direct map.
    unsafe { core::ptr::write_bytes(dm(phys) as *mut u8, 0, PAGE) };
    Some(phys)
}

/// Gives a frame back.
pub fn free_frame(phys: usize) {
    let mut f = FRAMES.lock();
    // SAFETY: the caller no longer uses the frame; its first word links it.
    unsafe { *(dm(phys) as *mut usize) = f.free };
    f.free = phys;
    f.used -= 1;
}

/// Frames in use.
pub fn frames_used() -> usize {
    FRAMES.lock().used
}

/// `bytes` of permanent zeroed memory (direct-map address), page-aligned.
pub fn alloc_permanent(bytes: usize) -> Option<usize> {
    let mut p = PERMANENT.lock();
    let len = bytes.next_multiple_of(PAGE);
    if p.0 + len > p.1 {
        return None;
    }
    p.0 += len;
    let phys = p.0 - len;
    // SAFETY: fresh memory of ours in the direct map.
    unsafe { core::ptr::write_bytes(dm(phys) as *mut u8, 0, len) };
    Some(dm(phys))
}

fn entry(table: usize, index: usize) -> *mut u64 {
    (dm(table) + index * 8) as *mut u64
}

fn read(e: *mut u64) -> u64 {
    // SAFETY: `e` is an entry of a page table reached from the PML4, mapped in the
    // direct map; tables change only under PT_LOCK, which the callers hold.
    unsafe { e.read_volatile() }
}

fn write(e: *mut u64, v: u64) {
    // SAFETY: as `read`.
    unsafe { e.write_volatile(v) }
}

fn in_shadow(va: usize) -> bool {
    (SHADOW_START..SHADOW_END).contains(&va)
}

/// The last-level entry of `va`. With `create`, missing tables are made and early
/// shadow tables on the path are replaced by private copies; without, `None` when
/// a table is missing. Huge pages are never split (`None`).
fn walk(va: usize, create: bool) -> Option<*mut u64> {
    let mut table = pml4();
    for (level, early) in EARLY.iter().enumerate() {
        let e = entry(table, (va >> (39 - 9 * level)) & 511);
        let v = read(e);
        if v & P == 0 {
            if !create {
                return None;
            }
            let t = alloc_frame()?;
            if in_shadow(va) {
                SHADOW_TABLES.fetch_add(1, Ordering::Relaxed);
            }
            write(e, t as u64 | P | W);
            table = t;
            continue;
        }
        if v & HUGE != 0 {
            return None;
        }
        let next = (v & ADDR) as usize;
        // Relaxed: set once by `init` before any walk.
        if create && next == early.load(Ordering::Relaxed) {
            let t = alloc_frame()?;
            // SAFETY: both are whole page tables in the direct map; `t` is fresh.
            unsafe {
                core::ptr::copy_nonoverlapping(dm(next) as *const u8, dm(t) as *mut u8, PAGE)
            };
            SHADOW_TABLES.fetch_add(1, Ordering::Relaxed);
            write(e, t as u64 | P | W);
            table = t;
            continue;
        }
        table = next;
    }
    Some(entry(table, (va >> 12) & 511))
}

/// Maps `va` to `phys` (4 KiB, writable, not executable).
pub fn map_page(va: usize, phys: usize) -> bool {
    let _g = PT_LOCK.lock();
    match walk(va, true) {
        Some(e) => {
            write(e, phys as u64 | P | W | NX);
            invlpg(va);
            true
        }
        None => false,
    }
}

/// Makes a mapped 4 KiB page present or not (vmalloc guard pages).
pub fn set_present(va: usize, present: bool) {
    let _g = PT_LOCK.lock();
    if let Some(e) = walk(va, false) {
        let v = read(e);
        write(e, if present { v | P } else { v & !P });
        invlpg(va);
    }
}

/// Whether `va` is mapped (any page size).
pub fn mapped(va: usize) -> bool {
    let mut table = pml4();
    for level in 0..4 {
        let v = read(entry(table, (va >> (39 - 9 * level)) & 511));
        if v & P == 0 {
            return false;
        }
        if level == 3 || v & HUGE != 0 {
            return true;
        }
        table = (v & ADDR) as usize;
    }
    true
}

/// The physical address `va` maps to (any page size), if mapped.
pub fn virt_to_phys(va: usize) -> Option<usize> {
    let mut table = pml4();
    for level in 0..4 {
        let shift = 39 - 9 * level;
        let v = read(entry(table, (va >> shift) & 511));
        if v & P == 0 {
            return None;
        }
        if level == 3 || v & HUGE != 0 {
            let base = (v & ADDR) as usize & !((1usize << shift) - 1);
            return Some(base + (va & ((1 << shift) - 1)));
        }
        table = (v & ADDR) as usize;
    }
    None
}

/// Builds the early shadow and leaves the vmalloc space's shadow unmapped; drops
/// the boot identity map. Returns false without memory.
pub fn init_shadow() -> bool {
    let (Some(zero), Some(free), Some(vinv), Some(pt), Some(pd), Some(pdpt)) = (
        alloc_frame(),
        alloc_frame(),
        alloc_frame(),
        alloc_frame(),
        alloc_frame(),
        alloc_frame(),
    ) else {
        return false;
    };
    // SAFETY: fresh frames of ours in the direct map.
    unsafe {
        core::ptr::write_bytes(dm(free) as *mut u8, PAGE_FREE, PAGE);
        core::ptr::write_bytes(dm(vinv) as *mut u8, VMALLOC_INVALID, PAGE);
    }
    for i in 0..512 {
        write(entry(pt, i), zero as u64 | P | NX);
        write(entry(pd, i), pt as u64 | P | W);
        write(entry(pdpt, i), pd as u64 | P | W);
    }
    ZERO.store(zero, Ordering::Relaxed);
    POISON_FREE.store(free, Ordering::Relaxed);
    POISON_VMALLOC.store(vinv, Ordering::Relaxed);
    EARLY[0].store(pdpt, Ordering::Relaxed);
    EARLY[1].store(pd, Ordering::Relaxed);
    EARLY[2].store(pt, Ordering::Relaxed);
    let _g = PT_LOCK.lock();
    let mut va = SHADOW_START;
    while va < SHADOW_END {
        write(entry(pml4(), (va >> 39) & 511), pdpt as u64 | P | W);
        va += 1 << 39;
    }
    // The vmalloc space's shadow: its PDPT entry (1 GiB of shadow) in a private
    // copy, not present, so a check of a never-populated area faults.
    let vs = shadow_of(VMALLOC_START);
    let Some(own) = alloc_frame() else {
        return false;
    };
    // SAFETY: whole page tables in the direct map; `own` is fresh.
    unsafe { core::ptr::copy_nonoverlapping(dm(pdpt) as *const u8, dm(own) as *mut u8, PAGE) };
    SHADOW_TABLES.fetch_add(1, Ordering::Relaxed);
    write(entry(own, (vs >> 30) & 511), 0);
    write(entry(pml4(), (vs >> 39) & 511), own as u64 | P | W);
    // No identity map any more: the NULL page and all user addresses fault.
    write(entry(pml4(), 0), 0);
    flush_all();
    true
}

fn flush_all() {
    // SAFETY: reloading CR3 with its own value flushes the non-global TLB entries.
    unsafe {
        core::arch::asm!("mov {0}, cr3", "mov cr3, {0}", out(reg) _, options(nostack));
    }
}

fn shared_page(value: u8) -> Option<usize> {
    // Relaxed: set once by `init_shadow`.
    match value {
        0 => Some(ZERO.load(Ordering::Relaxed)),
        PAGE_FREE => Some(POISON_FREE.load(Ordering::Relaxed)),
        VMALLOC_INVALID => Some(POISON_VMALLOC.load(Ordering::Relaxed)),
        _ => None,
    }
}

fn real_page_added() {
    let n = SHADOW_REAL.fetch_add(1, Ordering::Relaxed) + 1;
    SHADOW_REAL_PEAK.fetch_max(n, Ordering::Relaxed);
}

/// The shadow's pages in the kernel's page tables.
#[derive(Debug)]
pub struct KernelShadow;

impl ShadowPages for KernelShadow {
    fn has_shared(&self, value: u8) -> bool {
        shared_page(value).is_some()
    }

    fn share(&self, addr: usize, len: usize, value: u8) -> bool {
        let Some(page) = shared_page(value) else {
            return false;
        };
        let want = page as u64 | P | NX;
        let _g = PT_LOCK.lock();
        for va in (addr..addr + len).step_by(PAGE) {
            if walk(va, false).is_some_and(|e| read(e) == want) {
                continue;
            }
            let Some(e) = walk(va, true) else {
                return false;
            };
            let v = read(e);
            if v & (P | W) == P | W {
                free_frame((v & ADDR) as usize);
                SHADOW_REAL.fetch_sub(1, Ordering::Relaxed);
            }
            write(e, want);
            invlpg(va);
        }
        true
    }

    fn populate(&self, addr: usize, len: usize, fill: u8) -> bool {
        let _g = PT_LOCK.lock();
        for va in (addr..addr + len).step_by(PAGE) {
            let (Some(e), Some(frame)) = (walk(va, true), alloc_frame()) else {
                return false;
            };
            // SAFETY: a fresh frame of ours.
            unsafe { core::ptr::write_bytes(dm(frame) as *mut u8, fill, PAGE) };
            write(e, frame as u64 | P | W | NX);
            real_page_added();
            invlpg(va);
        }
        true
    }

    fn unmap(&self, addr: usize, len: usize) {
        let _g = PT_LOCK.lock();
        for va in (addr..addr + len).step_by(PAGE) {
            let Some(e) = walk(va, false) else { continue };
            let v = read(e);
            if v & (P | W) == P | W {
                free_frame((v & ADDR) as usize);
                SHADOW_REAL.fetch_sub(1, Ordering::Relaxed);
            }
            write(e, 0);
            invlpg(va);
        }
    }

    fn copy_on_write(&self) -> bool {
        false
    }

    fn make_private(&self, addr: usize, len: usize) -> bool {
        let _g = PT_LOCK.lock();
        for va in (addr..addr + len).step_by(PAGE) {
            let Some(e) = walk(va, true) else {
                return false;
            };
            let v = read(e);
            if v & (P | W) == P | W {
                continue;
            }
            let Some(frame) = alloc_frame() else {
                return false;
            };
            if v & P != 0 {
                // SAFETY: the shared page and the fresh frame are whole pages in the
                // direct map.
                unsafe {
                    core::ptr::copy_nonoverlapping(
                        dm((v & ADDR) as usize) as *const u8,
                        dm(frame) as *mut u8,
                        PAGE,
                    )
                };
            }
            write(e, frame as u64 | P | W | NX);
            real_page_added();
            invlpg(va);
        }
        true
    }

    fn readable(&self, addr: usize) -> bool {
        mapped(addr)
    }
}

/// Reads a byte of boot data (the multiboot information) in the direct map.
pub fn read_boot_byte(addr: usize) -> u8 {
    // SAFETY: the callers pass direct-map addresses of the first 1 GiB of RAM,
    // which the boot page tables map.
    unsafe { (addr as *const u8).read_volatile() }
}
