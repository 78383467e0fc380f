//! The kernel's KASAN runtime: the shadow (Linux's offset, pages backed by
//! [`crate::mm::KernelShadow`]), the generic-mode heap over the direct map and the
//! vmalloc space, the stack depot, the reporter, tracks and the paths from a bad
//! access or free to a report.
#![allow(unsafe_code)]

use core::sync::atomic::{AtomicU32, Ordering};

use kasan_core::config::Config;
use kasan_core::report::{Bug, Context, Describe, Gpf, Kind, ObjectInfo, Reporter, Track};
use kasan_core::shadow::Shadow;
use kasan_core::shadow_pages::VmallocShadow;
use kasan_core::stack::{walk_frames, PoolSource, StackDepot};
use kasan_slab::{Heap, Host};

use crate::mm::{self, KernelShadow, SHADOW_OFFSET, VMALLOC_SIZE, VMALLOC_START};
use crate::platform::{KernelPlatform, CONFIG};

/// The shadow's page backing.
pub static PAGES: KernelShadow = KernelShadow;

/// Generic mode's shadow of the upper half of the address space.
// SAFETY: every shadow byte of [0xffff800000000000, 2^64 - 4096) is mapped from
// `mm::init_shadow` on, before any use: the early zero page, read-only, which
// `make_private` replaces before the core writes (`copy_on_write() == false` asks
// for it), except the vmalloc space's, which `VMALLOC` populates before an area is
// used. The shadow region itself is never used as memory the shadow describes.
pub static SHADOW: Shadow =
    unsafe { Shadow::new(SHADOW_OFFSET, 0xffff_8000_0000_0000, 0xffff_ffff_ffff_f000) }
        .with_pages(&PAGES);

/// The vmalloc space's on-demand shadow.
pub static VMALLOC: VmallocShadow = VmallocShadow::new();

/// The heap's host: nothing to discard (RAM keeps its contents), guard pages by
/// the present bit, one CPU, permanent memory for the cache table.
#[derive(Debug)]
pub struct KernelHost;

impl Host for KernelHost {
    fn discard(&self, _addr: usize, _len: usize) {}
    fn protect(&self, addr: usize, len: usize, accessible: bool) {
        if (VMALLOC_START..VMALLOC_START + VMALLOC_SIZE).contains(&addr) {
            for va in (addr..addr + len).step_by(mm::PAGE) {
                mm::set_present(va, accessible);
            }
        }
    }
    fn cpu(&self) -> usize {
        0
    }
    fn map(&self, bytes: usize) -> Option<usize> {
        mm::alloc_permanent(bytes)
    }
    fn now_ns(&self) -> u64 {
        crate::platform::now_ns()
    }
    fn vmalloc_shadow(&self) -> Option<&VmallocShadow> {
        VMALLOC.enabled().then_some(&VMALLOC)
    }
}

/// The heap.
pub static HEAP: Heap<KernelHost> = Heap::new(KernelHost, SHADOW);
/// The stack depot.
pub static DEPOT: StackDepot = StackDepot::new();
/// The reporter.
pub static REPORTER: Reporter = Reporter::new();

/// `kasan_disable_current` depth (one task).
static DEPTH: AtomicU32 = AtomicU32::new(0);

#[derive(Debug)]
struct Pools;

impl PoolSource for Pools {
    fn map_pool(&self, bytes: usize) -> Option<*mut u8> {
        mm::alloc_permanent(bytes).map(|p| p as *mut u8)
    }
}

unsafe extern "C" {
    static boot_stack_top: u8;
    static boot_stack_bottom: u8;
}

/// The boot stack `[bottom, top)` (the only task's).
pub fn stack_bounds() -> (usize, usize) {
    (
        core::ptr::addr_of!(boot_stack_bottom) as usize,
        core::ptr::addr_of!(boot_stack_top) as usize,
    )
}

struct KernelDescribe;

impl Describe for KernelDescribe {
    fn object(&self, addr: usize) -> Option<ObjectInfo> {
        HEAP.object(addr)
    }
    fn stack_bounds(&self) -> Option<(usize, usize)> {
        Some((crate::io::stack_pointer(), stack_bounds().1))
    }
}

/// The configuration (defaults until the command line is parsed).
pub fn config() -> &'static Config {
    static DEFAULT: BootDefault = BootDefault;
    CONFIG.get().unwrap_or_else(|| DEFAULT.get())
}

struct BootDefault;
impl BootDefault {
    fn get(&self) -> &'static Config {
        static CELL: crate::platform::BootCell<Config> = crate::platform::BootCell::new();
        CELL.set(Config::parse("", |_| {}));
        CELL.get().expect("set just now")
    }
}

fn context() -> Context<'static> {
    Context {
        config: config(),
        mode: HEAP.mode(),
        generic: Some(&SHADOW),
        platform: &KernelPlatform,
        describe: &KernelDescribe,
        depot: &DEPOT,
    }
}

fn read_stack(addr: usize) -> Option<usize> {
    let (lo, hi) = stack_bounds();
    if addr < lo || addr + 8 > hi {
        return None;
    }
    // SAFETY: inside the boot stack, mapped for the kernel's life.
    Some(unsafe { (addr as *const usize).read_volatile() })
}

/// Return addresses of the frame chain from `fp`.
pub fn save_stack(fp: usize, out: &mut [usize]) -> usize {
    walk_frames(fp, stack_bounds().1, 0, out, read_stack)
}

/// A track of the caller of the entry point whose frame is `fp`.
pub fn track(fp: usize) -> Track {
    let c = config();
    let stack = if c.stacktrace {
        let mut frames = [0usize; 64];
        let depth = (c.stack_depth as usize).min(frames.len());
        let n = save_stack(fp, &mut frames[..depth]);
        DEPOT.save(&frames[..n], true, &Pools)
    } else {
        kasan_core::stack::Handle::NONE
    };
    Track {
        pid: 1,
        stack,
        cpu: 0,
        time_ns: crate::platform::now_ns(),
    }
}

/// Checks are off for this task (`kasan_disable_current`) or everywhere
/// (`kasan=off`).
fn suppressed() -> bool {
    // Relaxed: one CPU; the counter is this task's.
    !config().enabled || DEPTH.load(Ordering::Relaxed) > 0
}

/// `kasan_disable_current`/`kasan_enable_current`.
pub fn set_disabled(on: bool) {
    if on {
        DEPTH.fetch_add(1, Ordering::Relaxed);
    } else {
        DEPTH.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A bad access or free seen by the caller of the entry point whose frame is `fp`.
pub fn report(kind: Kind, addr: usize, size: usize, is_write: bool, fp: usize) -> bool {
    if suppressed() {
        return false;
    }
    let mut frames = [0usize; 64];
    let n = save_stack(fp, &mut frames);
    let bug = Bug {
        kind,
        addr,
        size,
        is_write,
        trace: &frames[..n],
    };
    REPORTER.report(&context(), &bug)
}

/// Checks an access; reports it when bad. Returns whether it was good.
#[inline(always)]
pub fn check(addr: usize, size: usize, is_write: bool, fp: usize) -> bool {
    SHADOW.check(addr, size) || !report(Kind::Access, addr, size, is_write, fp)
}

/// A general protection fault that KASAN explains (Linux's
/// `kasan_non_canonical_hook` in the fault handler): returns whether it printed.
pub fn report_gpf(fault: &Gpf, trace: &[usize]) -> bool {
    if !config().enabled {
        return false;
    }
    REPORTER.report_shadow_fault(&context(), fault, trace);
    true
}

/// Sets up the heap: the arena `[heap_lo, heap_hi)` (direct map) and the vmalloc
/// space (mapped to `vmalloc_phys`), whose shadow is populated on demand.
pub fn init_heap(heap_lo: usize, heap_hi: usize, vmalloc_phys: usize) -> bool {
    for i in 0..VMALLOC_SIZE / mm::PAGE {
        if !mm::map_page(VMALLOC_START + i * mm::PAGE, vmalloc_phys + i * mm::PAGE) {
            return false;
        }
    }
    let c = config();
    // SAFETY: RAM of the direct map that nothing else uses, zero since QEMU started
    // and never unmapped; covered by SHADOW.
    unsafe { HEAP.init(heap_lo, heap_hi - heap_lo) };
    HEAP.set_quarantine_max(c.quarantine_size.map_or(4 << 20, |v| v as usize));
    let (map_lo, map_hi) = HEAP.head_map();
    SHADOW.poison(
        map_lo,
        map_hi - map_lo,
        kasan_core::shadow::encoding::PAGE_FREE,
    );
    let (lo, hi) = (
        mm::shadow_of(VMALLOC_START),
        mm::shadow_of(VMALLOC_START + VMALLOC_SIZE),
    );
    if c.vmalloc {
        let Some(counts) = mm::alloc_permanent((hi - lo) / mm::PAGE * 2) else {
            return false;
        };
        // SAFETY: zeroed permanent memory for one u16 per shadow page, ours alone;
        // the shadow range is left unmapped by `mm::init_shadow`; no other user yet.
        unsafe {
            VMALLOC.init(
                lo,
                hi,
                counts,
                kasan_core::shadow::encoding::VMALLOC_INVALID,
            )
        };
    } else {
        // kasan.vmalloc=off: the space's shadow is zero (unchecked), as a kernel
        // without CONFIG_KASAN_VMALLOC maps the early shadow there.
        if !kasan_core::shadow_pages::ShadowPages::share(&PAGES, lo, hi - lo, 0) {
            return false;
        }
    }
    // SAFETY: mapped just now to RAM nothing else uses (zero since QEMU started),
    // covered by SHADOW; before any allocation.
    unsafe { HEAP.init_vmalloc(VMALLOC_START, VMALLOC_SIZE, c.vmalloc) };
    true
}
