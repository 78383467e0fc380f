//! The hosted runtime's state and glue: one-time start-up (shadow, options, heap),
//! the per-thread "kasan depth" and re-entry guard, stack capture into tracks, and
//! the paths from a failed check or a bad free to a report.
#![allow(unsafe_code)]

use core::cell::{Cell, UnsafeCell};
use core::sync::atomic::{AtomicU8, Ordering};

use kasan_core::config::{Config, ERROR_MAX, OPTIONS_MAX};
use kasan_core::mode::{Clock, Mode, ReportMode};
use kasan_core::report::{Bug, Context, Describe, Kind, ObjectInfo, Reporter, Track};
use kasan_core::stack::{Handle, PoolSource, SaveFlags, StackDepot};
use kasan_core::stack_ring::{BoundRing, RingDesign, StackRing};
use kasan_core::sw_tags::{LateAliasCarrier, SwTags, TagCarrier, TagShadow, X86_64};
use kasan_hosted::memory::{self, SHADOW};
use kasan_hosted::tagged::{self, TaggedPages};
use kasan_hosted::{output, own, task, HostedPlatform};
use kasan_slab::{Heap, Host};

/// The heap's host services.
#[derive(Debug)]
pub struct HostPages;

impl Host for HostPages {
    fn discard(&self, addr: usize, len: usize) {
        memory::discard(addr, len);
    }
    fn protect(&self, addr: usize, len: usize, accessible: bool) {
        memory::protect(addr, len, accessible);
    }
    fn cpu(&self) -> usize {
        task::cpu() as usize
    }
    fn map(&self, bytes: usize) -> Option<usize> {
        memory::map_anonymous(bytes)
    }
    fn now_ns(&self) -> u64 {
        task::now_ns()
    }
    fn vmalloc_shadow(&self) -> Option<&kasan_core::shadow_pages::VmallocShadow> {
        let v = &kasan_hosted::shadow_map::VMALLOC;
        v.enabled().then_some(v)
    }
}

/// Names the calling thread for the runtime's locks (a signal handler that
/// interrupted a holder finds its own id in the lock): glibc's thread pointer,
/// read without a call that could fault or block.
fn thread_token() -> usize {
    // SAFETY: pthread_self has no preconditions and is async-signal-safe in practice
    // (it reads the thread pointer).
    unsafe { libc::pthread_self() as usize }
}

/// Contended runtime locks sleep on a futex (`kasan_core::sync`, "sleeping").
static FUTEX: kasan_core::sync::WaitSource = kasan_core::sync::WaitSource {
    wait: futex_wait,
    wake: futex_wake,
};

fn futex_wait(word: &core::sync::atomic::AtomicU32, expected: u32) {
    // SAFETY: FUTEX_WAIT on a live, aligned u32 of this process; the kernel only
    // reads it. A signal or a changed word returns early, which callers expect.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
            expected,
            core::ptr::null::<libc::timespec>(),
        )
    };
}

fn futex_wake(word: &core::sync::atomic::AtomicU32) {
    // SAFETY: FUTEX_WAKE on a live, aligned u32 of this process touches no memory.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
            1,
        )
    };
}

/// The depot's pools come straight from `mmap`.
#[derive(Debug)]
struct Pools;

impl PoolSource for Pools {
    fn map_pool(&self, bytes: usize) -> Option<*mut u8> {
        memory::map_anonymous(bytes).map(|p| p as *mut u8)
    }
}

/// The generic-mode heap (every allocation entry point serves from it in generic mode).
pub static HEAP: Heap<HostPages> = Heap::new(HostPages, SHADOW);

/// The tag-mode heap's host: the tagged region's pages (`kasan_hosted::tagged`), and
/// the depot for the stacks the heap does not keep.
#[derive(Debug)]
pub struct TagPages;

impl Host for TagPages {
    fn discard(&self, addr: usize, len: usize) {
        TaggedPages.discard(addr, len);
    }
    fn protect(&self, addr: usize, len: usize, accessible: bool) {
        TaggedPages.protect(addr, len, accessible);
    }
    fn cpu(&self) -> usize {
        TaggedPages.cpu()
    }
    fn map(&self, bytes: usize) -> Option<usize> {
        TaggedPages.map(bytes)
    }
    fn now_ns(&self) -> u64 {
        TaggedPages.now_ns()
    }
    fn put_stack(&self, stack: Handle) {
        DEPOT.put(stack);
    }
    fn vmalloc_shadow(&self) -> Option<&kasan_core::shadow_pages::VmallocShadow> {
        let v = &kasan_hosted::shadow_map::TAG_VMALLOC;
        v.enabled().then_some(v)
    }
}

/// The tag mode's carrier: the alias bits of the tagged region (bits 40..43, the
/// region's base set at start-up), 4-bit tags with 0xF as the match-all one.
pub type Carrier = LateAliasCarrier;

/// The stack ring of the tag mode (its design and size from the options).
pub static RING: StackRing = StackRing::new();

/// Whether the ring's clock is the invariant TSC (else CLOCK_MONOTONIC); set in
/// `init` before READY.
static TSC_CLOCK: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// The ring entries' clock: `lfence; rdtsc` on an invariant TSC that the kernel uses
/// as its clocksource (so it keeps the CPUs' TSCs in step), else CLOCK_MONOTONIC
/// nanoseconds (also monotonic across CPUs). The `lfence` keeps `rdtsc` after the
/// loads before it (ARCHITECTURE.md, "the stack ring").
#[derive(Debug)]
pub struct RingClock;

impl Clock for RingClock {
    #[inline(always)]
    fn now(&self) -> u64 {
        // Relaxed: written once before READY is published (Release), read after it.
        if TSC_CLOCK.load(Ordering::Relaxed) {
            // SAFETY: lfence and rdtsc are unprivileged x86-64 instructions with no
            // memory operands.
            unsafe {
                core::arch::x86_64::_mm_lfence();
                core::arch::x86_64::_rdtsc()
            }
        } else {
            task::now_ns()
        }
    }
}

/// Whether the TSC is invariant (CPUID 8000_0007h EDX bit 8) and the kernel's
/// clocksource: then the kernel keeps it synchronised across CPUs.
fn tsc_usable() -> bool {
    // cpuid exists on every x86-64 CPU; leaves beyond the maximum are not asked.
    let max = core::arch::x86_64::__cpuid(0x8000_0000).eax;
    let invariant =
        max >= 0x8000_0007 && core::arch::x86_64::__cpuid(0x8000_0007).edx & (1 << 8) != 0;
    invariant
        && std::fs::read("/sys/devices/system/clocksource/clocksource0/current_clocksource")
            .is_ok_and(|s| s.trim_ascii() == b"tsc")
}

static RING_CLOCK: RingClock = RingClock;

/// The ring as the tag mode records into it: bound to the depot and the clock.
pub static BOUND_RING: BoundRing = BoundRing {
    ring: &RING,
    depot: &DEPOT,
    clock: &RING_CLOCK,
};

/// The sw-tags heap (every allocation entry point serves from it in sw-tags mode):
/// the slab heap over the tagged region, `SwTags` as its mode. Const-built with an
/// empty tag shadow; `init` places the shadow and the carrier's base.
pub static TAGS_HEAP: Heap<TagPages, SwTags<Carrier>> = Heap::with_mode(
    TagPages,
    SwTags::new(
        // SAFETY: an empty range covers nothing, so no shadow byte is ever touched
        // until `init` sets the real one (`set_range`).
        // The tag shadow shares the pages of big blocks' tags (`init_tags`).
        unsafe {
            TagShadow::new_paged(
                0,
                0,
                0,
                LateAliasCarrier::new(tagged::TAG_SHIFT, tagged::KERNEL_TAG),
                X86_64,
                &kasan_hosted::shadow_map::TAG_SHADOW_PAGES,
            )
        },
        &BOUND_RING,
    ),
);

/// The tag mode (the heap's).
#[inline(always)]
pub fn tags() -> &'static SwTags<Carrier> {
    TAGS_HEAP.mode()
}

/// The tagged region as the `__hwasan_*` fast path sees it: where it starts, how long
/// its alias 0 (the arena the tag shadow covers) is, and where the tag of its first
/// granule is. The same layout `TAGS_HEAP`'s carrier and tag shadow are given, as
/// plain values: one cache line, no atomic loads in the hot path.
#[derive(Debug, Clone, Copy)]
pub struct TagRegion {
    /// The region's first address (alias 0, tag 0xF); aligned to 16 aliases.
    pub base: usize,
    /// Bytes per alias (the arena's length): `1 << tagged::TAG_SHIFT`.
    pub len: usize,
    /// The address of the tag of the granule at `base`.
    pub shadow: usize,
}

/// [`TagRegion`] of the process, written once by `init` before READY.
struct TagRegionCell(UnsafeCell<TagRegion>);

// SAFETY: written only by the thread that moves STATE from UNINIT to STARTING, before
// READY is published with Release; read only after an Acquire load of READY (the
// callers of `tags_check` check `ready()` first).
unsafe impl Sync for TagRegionCell {}

static TAG_REGION: TagRegionCell = TagRegionCell(UnsafeCell::new(TagRegion {
    base: 0,
    len: 0,
    shadow: 0,
}));

/// `SwTags::check` for the carrier and shadow `init` sets up (aliases of `1 <<
/// TAG_SHIFT` bytes at `r.base`, the tag stored as the alias index `tag ^ 0xF`, the tag
/// shadow over alias 0), with the region's values in hand: Linux's `kasan_check_range`.
/// Size 0 passes; a range that wraps fails; the match-all tag (alias 0, and every
/// address outside the region) passes; otherwise the untagged range must lie in the
/// arena and every granule of it carry the pointer's tag. A unit test holds it to
/// `TagShadow::check`.
///
/// # Safety
///
/// `r.shadow` must hold one readable byte per 16-byte granule of `[r.base, r.base +
/// r.len)`, and `r.len` must be at most `1 << TAG_SHIFT`.
#[inline(always)]
pub unsafe fn region_check(r: &TagRegion, addr: usize, size: usize) -> bool {
    if size == 0 {
        return true;
    }
    if addr.checked_add(size).is_none() {
        return false;
    }
    let alias = addr.wrapping_sub(r.base) >> tagged::TAG_SHIFT;
    if alias == 0 || alias > usize::from(tagged::KERNEL_TAG) {
        return true;
    }
    let tag = alias as u8 ^ tagged::KERNEL_TAG;
    let off = addr.wrapping_sub(r.base) & ((1 << tagged::TAG_SHIFT) - 1);
    // No overflow: `off <= addr` and `addr + size` did not wrap.
    let last = off + (size - 1);
    if last >= r.len {
        return false;
    }
    let granule = |o: usize| {
        // SAFETY: `o <= last < r.len`: its granule's tag is inside the shadow (the
        // caller's promise).
        unsafe { *((r.shadow + (o >> 4)) as *const u8) }
    };
    if size <= 16 {
        return granule(off) == tag && granule(last) == tag;
    }
    let mut g = off & !15;
    while g <= last {
        if granule(g) != tag {
            return false;
        }
        g += 16;
    }
    true
}

/// Runs `$e` with `$h` bound to the heap of the process's mode: `HEAP` (generic) or
/// `TAGS_HEAP` (sw-tags). Both arms have the same type: the heap API does not depend
/// on the mode.
#[macro_export]
macro_rules! with_heap {
    ($h:ident => $e:expr) => {
        match $crate::runtime::mode() {
            $crate::runtime::RunMode::Generic => {
                let $h = &$crate::runtime::HEAP;
                $e
            }
            $crate::runtime::RunMode::SwTags => {
                let $h = &$crate::runtime::TAGS_HEAP;
                $e
            }
        }
    };
}
/// Saved alloc/free stacks.
pub static DEPOT: StackDepot = StackDepot::new();
/// The report gate.
pub static REPORTER: Reporter = Reporter::new();

/// Which KASAN mode this process runs, chosen once at start-up (see [`mode`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunMode {
    /// Shadow bytes, redzones, quarantine: `-fsanitize=kernel-address` programs.
    Generic,
    /// Software tag-based: `kasan cc --mode=sw-tags` programs.
    SwTags,
}

const MODE_GENERIC: u8 = 0;
const MODE_SW_TAGS: u8 = 1;
/// The mode, written once by `init` before `STATE` becomes `READY`.
static MODE: AtomicU8 = AtomicU8::new(MODE_GENERIC);

// Mode selection without a constructor or an environment variable: `kasan cc
// --mode=sw-tags` links with `-Wl,--defsym=__kasan_sw_tags=__hwasan_load1_noabort`, so
// the weak reference below resolves to a non-zero address; in every other link
// (generic programs, the shared library) it stays undefined and reads 0. The probe
// reads it through the GOT, which works for PIE, non-PIE, static and static-pie links
// (docs/design/sw-tags/modeprobe.txt).
core::arch::global_asm!(
    ".pushsection .text.__kasan_mode_probe,\"ax\",@progbits",
    ".weak __kasan_sw_tags",
    ".globl __kasan_mode_probe",
    ".hidden __kasan_mode_probe",
    ".type __kasan_mode_probe,@function",
    ".p2align 4",
    "__kasan_mode_probe:",
    "movq __kasan_sw_tags@GOTPCREL(%rip), %rax",
    "ret",
    ".size __kasan_mode_probe, .-__kasan_mode_probe",
    ".popsection",
    options(att_syntax)
);

unsafe extern "C" {
    /// The address `__kasan_sw_tags` resolved to, 0 when it is undefined.
    fn __kasan_mode_probe() -> usize;
}

/// Whether the program was linked for sw-tags mode (`__kasan_sw_tags` defined).
fn linked_for_sw_tags() -> bool {
    // SAFETY: the probe only loads a GOT entry into %rax; no memory of ours is touched.
    unsafe { __kasan_mode_probe() != 0 }
}

/// The process's mode (generic before start-up).
#[inline(always)]
pub fn mode() -> RunMode {
    // Relaxed: written once in `init` before the Release store of READY; callers that
    // act on it have seen READY (Acquire) first, or run before start-up, where
    // generic is right.
    match MODE.load(Ordering::Relaxed) {
        MODE_SW_TAGS => RunMode::SwTags,
        _ => RunMode::Generic,
    }
}

const UNINIT: u8 = 0;
const STARTING: u8 = 1;
const READY: u8 = 2;
static STATE: AtomicU8 = AtomicU8::new(UNINIT);

/// The configuration, written once by `init` before `STATE` becomes `READY`.
struct ConfigCell(UnsafeCell<Option<Config>>);

// SAFETY: written only by the one thread that moves `STATE` from UNINIT to STARTING,
// before it publishes READY with Release; read only after an Acquire load of READY.
unsafe impl Sync for ConfigCell {}

static CONFIG: ConfigCell = ConfigCell(UnsafeCell::new(None));

std::thread_local! {
    /// Linux's `current->kasan_depth`: reports are suppressed while non-zero.
    static DEPTH: Cell<u32> = const { Cell::new(0) };
    /// Set while this thread runs inside the allocator, so a nested allocation
    /// (from a libc routine the runtime called) does not take stacks or locks again.
    static IN_RUNTIME: Cell<bool> = const { Cell::new(false) };
}

/// Whether start-up has finished. Before that, checks pass and nothing is poisoned.
#[inline(always)]
pub fn ready() -> bool {
    // Acquire pairs with the Release store at the end of `init`.
    STATE.load(Ordering::Acquire) == READY
}

/// The configuration (defaults before start-up).
pub fn config() -> &'static Config {
    static DEFAULT: std::sync::OnceLock<Config> = std::sync::OnceLock::new();
    if ready() {
        // SAFETY: READY was observed with Acquire, so the write in `init` is visible
        // and no write follows it.
        if let Some(c) = unsafe { &*CONFIG.0.get() } {
            return c;
        }
    }
    DEFAULT.get_or_init(Config::default)
}

/// Starts the runtime if it has not started; cheap when it has.
#[inline(always)]
pub fn ensure_init() {
    if !ready() {
        init();
    }
}

#[cold]
fn init() {
    match STATE.compare_exchange(UNINIT, STARTING, Ordering::Acquire, Ordering::Acquire) {
        Ok(_) => {}
        Err(READY) => return,
        Err(_) => {
            // Another thread is starting the runtime (or this one, re-entered from
            // start-up itself): do not wait on ourselves.
            return;
        }
    }
    // This thread's stack bounds (the main thread's, as a rule): the stack walk reads
    // the live stack directly and looks unwind rules up only where they are known.
    crate::threads::stack_bounds();
    // The mode first: it decides what is mapped.
    if linked_for_sw_tags() {
        // Relaxed: published by the Release store of READY (see `mode`).
        MODE.store(MODE_SW_TAGS, Ordering::Relaxed);
    }
    kasan_core::report::set_json_mode(match mode() {
        RunMode::Generic => "generic",
        RunMode::SwTags => "sw-tags",
    });
    // The runtime's own memory, before the program can limit its address space.
    crate::ALLOC.reserve();
    if let Err(e) = memory::map_shadow() {
        let mut buf = [0u8; 200];
        let msg = format_into(
            &mut buf,
            format_args!(
                "kasan: cannot map shadow memory at [{:#x}, {:#x}): errno {} (is the address space limited, or is something mapped there?)\n",
                memory::SHADOW_OFFSET,
                memory::SHADOW_OFFSET + (memory::USER_END >> 3),
                e.errno
            ),
        );
        output::write_stderr(msg);
        // SAFETY: _exit has no preconditions; nothing instrumented can run without shadow.
        unsafe { libc::_exit(1) };
    }
    kasan_core::sync::set_context_source(thread_token);
    kasan_core::sync::set_nested_source(nested_entry);
    kasan_core::sync::set_wait_source(&FUTEX);
    let config = read_options();
    output::set_json(config.format == kasan_core::config::Format::Json);
    if let Some(path) = config.log_path() {
        if let Err(errno) = output::set_log_path(path) {
            let mut buf = [0u8; 400];
            let msg = format_into(
                &mut buf,
                format_args!("kasan: cannot open kasan.log_path '{path}': errno {errno}; reports go to stderr\n"),
            );
            output::write_stderr(msg);
        }
    }
    // Before the heaps make their kmalloc caches: their runs keep each object's CPU
    // and time only when the reports print them.
    kasan_slab::pages::set_extra_info(config.extra_info);
    match mode() {
        RunMode::Generic => init_generic_heap(&config),
        RunMode::SwTags => init_tags_heap(&config),
    }
    DEPOT.set_cap(config.stack_depot_size as usize);
    // SAFETY: we moved STATE to STARTING, so no other thread writes or reads CONFIG
    // until the Release store below publishes it.
    unsafe { *CONFIG.0.get() = Some(config) };
    // SAFETY: registering fork and exit handlers has no preconditions.
    unsafe {
        libc::pthread_atfork(
            Some(before_fork),
            Some(after_fork_parent),
            Some(after_fork_child),
        );
        libc::atexit(at_exit);
    }
    crate::signals::install();
    own::learn_restorer();
    crate::threads::main_thread_start();
    // Release pairs with the Acquire in `ready`.
    STATE.store(READY, Ordering::Release);
}

/// Generic mode's heap: a 1 TiB (or smaller) private arena.
fn init_generic_heap(config: &Config) {
    let arena = [1usize << 40, 1 << 36, 1 << 32]
        .into_iter()
        .find_map(|size| memory::map_anonymous(size).map(|base| (base, size)));
    let Some((base, size)) = arena else {
        output::write_stderr(b"kasan: cannot map the heap arena\n");
        // SAFETY: _exit has no preconditions.
        unsafe { libc::_exit(1) };
    };
    // SAFETY: a fresh private anonymous mapping: page-aligned, zeroed, ours alone,
    // never unmapped, and inside user space, which the shadow covers.
    unsafe { HEAP.init(base, size) };
    HEAP.set_quarantine_max(quarantine_size(config));
    HEAP.set_quarantine_live_bound(
        config.quarantine_live_percent as usize,
        config.quarantine_floor as usize,
    );
    kasan_hosted::shadow_map::set_sharing(config.shadow_share);
    // The head map is allocator metadata: a wild access into it is reported (its
    // shadow is the shared poisoned page, no memory). Without a shared page (sharing
    // off, no memfd) it would cost 1/8 of the head map in real shadow: left as before.
    let (map_lo, map_hi) = HEAP.head_map();
    let shared = SHADOW
        .pages()
        .is_some_and(|p| p.has_shared(kasan_core::shadow::encoding::PAGE_FREE));
    if shared {
        // Never-used memory 64 MiB past the last run reads as free pages (about four
        // shared mappings per 64 MiB of growth), so wild accesses there are caught.
        HEAP.set_fresh_ahead(64 << 20);
        SHADOW.poison(
            map_lo,
            map_hi - map_lo,
            kasan_core::shadow::encoding::PAGE_FREE,
        );
    }
    init_vmalloc_space(config);
}

/// The vmalloc space: 64 GiB (or less) of its own, aligned so that its shadow is
/// whole pages, whose shadow is populated per area unless
/// `kasan.vmalloc_shadow=always` or `kasan.vmalloc=off`.
fn init_vmalloc_space(config: &Config) {
    const ALIGN: usize = 8 * 4096;
    let Some((base, size)) = [1usize << 36, 1 << 34, 1 << 32]
        .into_iter()
        .find_map(|size| {
            memory::map_anonymous(size + ALIGN).map(|p| (p.next_multiple_of(ALIGN), size))
        })
    else {
        // vmalloc areas come from the main arena.
        return;
    };
    if config.vmalloc && !config.vmalloc_shadow_always {
        kasan_hosted::shadow_map::init_vmalloc(base, size);
    }
    // SAFETY: a fresh private anonymous mapping of `size + ALIGN` bytes from which the
    // aligned `[base, base + size)` is taken: page-aligned, zeroed, ours alone, never
    // unmapped, inside user space (covered by the shadow); no allocation has run yet.
    unsafe { HEAP.init_vmalloc(base, size, config.vmalloc) };
}

/// sw-tags' heap: the tagged region (16 aliases of one memfd and its tag shadow), the
/// carrier and tag shadow placed on it, the tag generators seeded, the stack ring.
fn init_tags_heap(config: &Config) {
    let region = match tagged::init() {
        Ok(r) if r.shift() == tagged::TAG_SHIFT => r,
        Ok(r) => {
            let mut buf = [0u8; 160];
            output::write_stderr(format_into(
                &mut buf,
                format_args!(
                    "kasan: sw-tags: the tagged heap needs 16 TiB of address space (got aliases of 2^{} bytes)\n",
                    r.shift()
                ),
            ));
            // SAFETY: _exit has no preconditions.
            unsafe { libc::_exit(1) }
        }
        Err(e) => {
            let mut buf = [0u8; 160];
            output::write_stderr(format_into(
                &mut buf,
                format_args!(
                    "kasan: sw-tags: cannot map the tagged heap (16 aliases of a memfd): errno {}\n",
                    e.errno
                ),
            ));
            // SAFETY: _exit has no preconditions.
            unsafe { libc::_exit(1) }
        }
    };
    let (base, size) = region.arena();
    let t = tags();
    t.shadow.carrier().set_base(region.base());
    // SAFETY: the region's shadow covers its arena (alias 0, `[base, base + size)`) at
    // this offset, is mapped for the process's life and lies outside the arena; no
    // other thread runs the heap before READY is published.
    unsafe {
        t.shadow
            .set_range(region.shadow_offset(), base, base + size)
    };
    kasan_hosted::shadow_map::set_sharing(config.shadow_share);
    kasan_hosted::shadow_map::init_tags(
        region.shadow_base(),
        region.shadow_base() + region.shadow_len(),
    );
    // The top sixteenth of alias 0 is the vmalloc space (64 GiB of a 1 TiB alias),
    // whose tag shadow is populated per area unless `kasan.vmalloc_shadow=always` or
    // `kasan.vmalloc=off` (whose areas' pages all carry the pointer's tag).
    let vsize = size / 16;
    let vbase = base + size - vsize;
    if config.vmalloc && !config.vmalloc_shadow_always {
        kasan_hosted::shadow_map::init_tags_vmalloc(
            vbase,
            vsize,
            region.shadow_base() + (vbase - base) / tagged::GRANULE,
            X86_64.invalid,
        );
    }
    // SAFETY: alias 0 of the region: page-aligned, zeroed, ours alone, never
    // unmapped; the tag shadow covers it. The two parts do not overlap.
    unsafe {
        TAGS_HEAP.init(base, size - vsize);
        TAGS_HEAP.init_vmalloc(vbase, vsize, true);
    }
    // SAFETY: we moved STATE to STARTING, so no other thread reads TAG_REGION until the
    // Release store of READY publishes it.
    unsafe {
        *TAG_REGION.0.get() = TagRegion {
            base: region.base(),
            len: size,
            shadow: region.shadow_base(),
        }
    };
    TSC_CLOCK.store(tsc_usable(), Ordering::Relaxed);
    t.tags.seed(RING_CLOCK.now() ^ u64::from(task::tid()));
    let design = match config.stack_ring {
        kasan_core::config::StackRing::Global => RingDesign::Global,
        kasan_core::config::StackRing::PerCpu => RingDesign::PerCpu,
    };
    // SAFETY: sysconf has no preconditions.
    let cpus = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_CONF) }.max(1) as usize;
    if config.stacktrace {
        // A ring that cannot be mapped turns stack traces off in reports (Linux).
        RING.init(
            design,
            config.stack_ring_size as usize,
            cpus,
            config.stack_ring_evict,
            &Pools,
        );
    }
}

std::thread_local! {
    /// The signal mask of a thread between `before_fork` and the `after_fork_*`
    /// handlers, restored by them.
    static FORK_MASK: Cell<Option<libc::sigset_t>> = const { Cell::new(None) };
}

/// Before `fork`: hold every runtime lock, in nesting order, so that the child
/// starts with none held by a thread it does not have. Signals are blocked first
/// and until the locks are released: a handler that ran while this thread holds
/// every lock (a bug or an allocation in it) could take none of them.
extern "C" fn before_fork() {
    // SAFETY: a full set is a valid mask; the old mask is written into `old`.
    let old = unsafe {
        let mut all: libc::sigset_t = core::mem::zeroed();
        let mut old: libc::sigset_t = core::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_BLOCK, &all, &mut old);
        old
    };
    FORK_MASK.with(|m| m.set(Some(old)));
    crate::threads::fork_enter();
    // Allocator locks first: a thread holding one may report (a signal handler on
    // it), so the report lock must not be held here while waiting for them; a
    // report in progress takes none of them.
    // Signal handlers nested in another thread's runtime call give up at once on
    // the locks this thread takes (it holds them until it has them all, and may be
    // waiting for one that call holds).
    kasan_core::sync::set_forking(Some(kasan_core::sync::context_id()));
    crate::kernel_mm::lock_all();
    with_heap!(h => h.lock_all());
    DEPOT.lock_all();
    REPORTER.lock_all();
    crate::ALLOC.lock_all();
    crate::threads::fork_prepare();
}

/// Releases the locks `before_fork` took; in the child (`child`) then gives back
/// what the parent's other threads left half done outside the locks, before
/// signals are let in again (a handler's populate would wait for ever on the pages
/// those threads were mapping).
fn unlock_after_fork(child: bool) {
    // SAFETY: `before_fork` took these locks on this thread (in the child: on the
    // thread that forked, which is the child's only thread).
    unsafe {
        crate::ALLOC.unlock_all();
        REPORTER.unlock_all();
        DEPOT.unlock_all();
        with_heap!(h => h.unlock_all());
    }
    if child {
        with_heap!(h => h.after_fork_child());
    }
    // SAFETY: as above (taken first in `before_fork`, so released last).
    unsafe { crate::kernel_mm::unlock_all(child) };
    kasan_core::sync::set_forking(None);
    if let Some(old) = FORK_MASK.with(|m| m.take()) {
        // SAFETY: restores the mask `before_fork` saved on this thread.
        unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &old, core::ptr::null_mut()) };
    }
}

extern "C" fn after_fork_parent() {
    crate::threads::fork_parent();
    unlock_after_fork(false);
}

extern "C" fn after_fork_child() {
    crate::threads::fork_child();
    // The locks' waiters were the parent's other threads: forget them.
    kasan_core::sync::set_forked_child(true);
    unlock_after_fork(true);
    kasan_core::sync::set_forked_child(false);
    // Threads of the parent forking at the same time are not the child's.
    kasan_core::sync::reset_forking();
    task::forget_tid();
}

extern "C" fn at_exit() {
    // Another thread may be printing a report while this one exits the process,
    // which would cut it off unwritten: give it up to a second to finish.
    for _ in 0..100 {
        if !REPORTER.in_progress() {
            break;
        }
        // SAFETY: usleep has no preconditions.
        unsafe { libc::usleep(10_000) };
    }
    own(at_exit_stats);
}

fn at_exit_stats() {
    if !config().stats {
        return;
    }
    let d = DEPOT.stats();
    let h = with_heap!(h => h.stats());
    // sw-tags: the tag shadow, and the memfd's resident bytes (each page once, however
    // many aliases map it; RSS counts it once per alias).
    let (shadow_bytes, heap_resident) = match (mode(), tagged::get()) {
        (RunMode::SwTags, Some(region)) => (
            region.shadow_resident_bytes().unwrap_or(0),
            region.resident_bytes(),
        ),
        _ => (
            memory::shadow_resident_bytes().unwrap_or(0),
            h.pages * kasan_core::generic::PAGE_SIZE,
        ),
    };
    let values: [(&str, usize); 11] = [
        ("reports", REPORTER.count()),
        ("depot_stacks", d.stacks),
        ("depot_bytes", d.bytes),
        ("depot_evicted", d.evicted),
        ("depot_failed", d.failed),
        ("quarantine_bytes", h.quarantine_bytes),
        ("heap_pages", h.pages),
        ("live_objects", h.live_objects),
        ("shadow_bytes", shadow_bytes),
        ("heap_resident", heap_resident),
        ("report_stack_bytes", own::report_stack_used()),
    ];
    let json = config().format == kasan_core::config::Format::Json;
    let mut buf = [0u8; 600];
    let mut len = 0;
    let mut put = |text: &[u8]| {
        let n = text.len().min(buf.len() - len);
        buf[len..len + n].copy_from_slice(&text[..n]);
        len += n;
    };
    let mut head = [0u8; 80];
    put(if json {
        format_into(
            &mut head,
            format_args!("{},\"stats\":{{", kasan_core::report::JsonLine("stats")),
        )
    } else {
        b"kasan: stats:"
    });
    for (i, (key, value)) in values.iter().enumerate() {
        let mut item = [0u8; 64];
        let item = if json {
            let sep = if i == 0 { "" } else { "," };
            format_into(&mut item, format_args!("{sep}\"{key}\":{value}"))
        } else {
            format_into(&mut item, format_args!(" {key}={value}"))
        };
        put(item);
    }
    put(if json { b"}}\n" } else { b"\n" });
    output::write(&buf[..len]);
}

/// Linux sizes the quarantine at 1/32 of RAM; a process gets at most 128 MiB of it.
fn quarantine_size(config: &Config) -> usize {
    if let Some(q) = config.quarantine_size {
        return q as usize;
    }
    // SAFETY: sysinfo fills the struct it is given.
    let ram = unsafe {
        let mut info: libc::sysinfo = core::mem::zeroed();
        if libc::sysinfo(&mut info) == 0 {
            info.totalram as usize * info.mem_unit as usize
        } else {
            1 << 30
        }
    };
    (ram / 32).min(128 << 20)
}

/// `KASAN_OPTIONS`, as a kernel treats its command line: each unknown or malformed
/// parameter is one whole error line on stderr and is skipped, the valid ones apply,
/// and the program runs. The value is read up to `OPTIONS_MAX` bytes (plus one, to see
/// whether the limit cuts a parameter) into a mapping of its own, dropped after parsing:
/// the one string kept (the log path) is copied into the config itself.
fn read_options() -> Config {
    let mut config = Config::default();
    let var = match kasan_hosted::env::initial_value("KASAN_OPTIONS", OPTIONS_MAX + 1) {
        Ok(Some(var)) => var,
        Ok(None) => return config,
        Err(errno) => {
            let mut buf = [0u8; 100];
            output::write_stderr(format_into(
                &mut buf,
                format_args!("kasan: KASAN_OPTIONS: cannot map memory to read it (errno {errno}); the defaults apply\n"),
            ));
            return config;
        }
    };
    // A first, silent pass learns the report format, so that the errors of the
    // second are JSON objects in JSON mode, like every other line then.
    let mut probe = Config::default();
    probe.apply_all(var.bytes(), var.len(), |_| {});
    output::set_json(probe.format == kasan_core::config::Format::Json);
    config.apply_all(var.bytes(), var.len(), |e| {
        // ERROR_MAX bounds the message; should it ever be exceeded, the line is still
        // cut whole, ending in "...\n".
        let mut buf = [0u8; 48 + ERROR_MAX];
        let len = format_into(&mut buf, format_args!("kasan: KASAN_OPTIONS: {e}\n")).len();
        if len == buf.len() && buf[len - 1] != b'\n' {
            buf[len - 4..].copy_from_slice(b"...\n");
        }
        // Before start-up no log is open: this goes to standard error.
        output::write_message::<{ 2 * (48 + ERROR_MAX) + 64 }>(&buf[..len]);
    });
    config
}

/// Formats into a stack buffer (truncating), for messages that must not allocate.
pub fn format_into<'a>(buf: &'a mut [u8], args: core::fmt::Arguments<'_>) -> &'a [u8] {
    struct W<'b> {
        buf: &'b mut [u8],
        len: usize,
    }
    impl core::fmt::Write for W<'_> {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            let n = s.len().min(self.buf.len() - self.len);
            self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
            self.len += n;
            Ok(())
        }
    }
    let mut w = W { buf, len: 0 };
    let _ = core::fmt::write(&mut w, args);
    let len = w.len;
    &w.buf[..len]
}

/// `kasan_disable_current`.
pub fn disable_current() {
    DEPTH.with(|d| d.set(d.get() + 1));
}

/// `kasan_enable_current`.
pub fn enable_current() {
    DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
}

fn suppressed() -> bool {
    DEPTH.with(|d| d.get() != 0)
}

std::thread_local! {
    /// Allocator calls and reports running on this thread: more than one means a
    /// signal handler interrupted one and called the runtime again.
    static ENTRIES: Cell<u32> = const { Cell::new(0) };
}

/// Runs one allocator call (`f` takes the allocator's locks). Nested in another on
/// the same thread (a signal handler that interrupted it), its locks never wait
/// long for another thread: that thread may be waiting for a lock the interrupted
/// call holds (`kasan_core::sync`, "nested").
#[inline(always)]
pub(crate) fn entry<R>(f: impl FnOnce() -> R) -> R {
    ENTRIES.with(|n| n.set(n.get() + 1));
    let r = f();
    ENTRIES.with(|n| n.set(n.get() - 1));
    r
}

/// Whether this thread runs an allocator call nested in another (registered with
/// `kasan_core::sync::set_nested_source`; asked only when a lock is contended).
fn nested_entry() -> bool {
    ENTRIES.with(|n| n.get() > 1)
}

/// Runs `f` marked as inside the runtime; returns `None` if already inside (a
/// nested call from something the runtime itself called). Memory operations `f`
/// makes are the runtime's own (see [`own`]).
pub fn enter<R>(f: impl FnOnce() -> R) -> Option<R> {
    if IN_RUNTIME.with(|r| r.replace(true)) {
        return None;
    }
    let result = own(f);
    IN_RUNTIME.with(|r| r.set(false));
    Some(result)
}

/// Runs `f` as the runtime's own code: a `memcpy`/`memset`/`memmove` it makes (Rust
/// code calls the library's checked exports) passes even where the shadow says no,
/// as on a stack the program left poisoned. Program code running inside `f` (a
/// signal handler that interrupted it) is still checked; see
/// [`kasan_hosted::own::is_own`].
#[inline(always)]
pub fn own<R>(f: impl FnOnce() -> R) -> R {
    own::own(f)
}

/// The allocators and the stack, as the report sees them.
struct HostedDescribe;

impl Describe for HostedDescribe {
    fn object(&self, addr: usize) -> Option<ObjectInfo> {
        with_heap!(h => h.object(addr))
    }
    fn stack_bounds(&self) -> Option<(usize, usize)> {
        let sp = task::stack_pointer();
        // A bug in a signal handler that interrupted a report: the handler's frames
        // are on the report stack.
        match own::report_stack_range() {
            Some(r) if r.contains(&sp) => Some((sp, r.end)),
            _ => Some((sp, task::stack_top())),
        }
    }
}

/// What a report needs, for this runtime.
pub(crate) fn context() -> Context<'static> {
    let (mode, generic): (&'static dyn ReportMode, _) = match mode() {
        RunMode::Generic => (HEAP.mode(), Some(&SHADOW)),
        RunMode::SwTags => (tags(), None),
    };
    Context {
        config: config(),
        mode,
        generic,
        platform: &HostedPlatform,
        describe: &HostedDescribe,
        depot: &DEPOT,
    }
}

std::thread_local! {
    /// This thread's depot hints: the handle last saved from each call site, so a
    /// save of a stack this thread saved before skips the hash and the chain walk
    /// (no destructor, constant-initialised: usable in any thread at any time).
    static SAVE_HINTS: kasan_core::stack::SaveHints = const { kasan_core::stack::SaveHints::new() };
}

/// A track for an allocation or free made by the caller of the entry point whose
/// frame is `fp`.
///
/// The stack starts with a pc inside the entry point itself (`malloc`, `kfree`,
/// `kmem_cache_alloc`, `vmalloc`, `__get_free_pages`...), then the program's
/// frames. Linux's tracks start with KASAN's own frames (`kasan_save_stack`,
/// `kasan_save_track`, `__kasan_kmalloc`/`__kasan_slab_free`), then the allocator's
/// entry (`__kmalloc_cache_noprof`, `kfree`, `kmem_cache_free`...), then its caller:
/// the runtime's own frames, which correspond to KASAN's and the allocator's
/// internals, stay out, and the API function the program called stands for
/// Linux's allocator entry frame.
#[inline(always)]
pub fn track(fp: usize) -> Track {
    let c = config();
    let stack = if c.stacktrace {
        let mut frames = core::mem::MaybeUninit::<[usize; 64]>::uninit();
        // SAFETY: every bit pattern is a valid usize, so an uninitialised array of
        // them may be written through; only the `n` frames the walk stored are read.
        let frames = unsafe { &mut *frames.as_mut_ptr() };
        let depth = (c.stack_depth as usize).min(frames.len());
        let n = if depth == 0 {
            0
        } else {
            frames[0] = task::entry_pc(fp, task::program_counter());
            1 + task::save_stack(fp, 0, &mut frames[1..depth])
        };
        // Tag modes take a reference (the ring puts it when the entry is overwritten,
        // or the heap when it keeps no track); generic tracks are persistent.
        let flags = match mode() {
            RunMode::Generic => SaveFlags::CAN_ALLOC,
            RunMode::SwTags => SaveFlags::CAN_ALLOC | SaveFlags::GET,
        };
        SAVE_HINTS.with(|hints| DEPOT.save_hinted(&frames[..n], flags, &Pools, hints))
    } else {
        Handle::NONE
    };
    // Without `kasan.extra_info` the heap stamps page memory's tracks itself (for
    // page_owner's `ts`), so slab allocations read no clock.
    let (cpu, time_ns) = if c.extra_info {
        (task::cpu(), task::now_ns())
    } else {
        (0, 0)
    };
    Track {
        pid: task::tid(),
        stack,
        cpu,
        time_ns,
    }
}

/// Saves an aux stack for the object holding `addr` (`kasan_record_aux_stack`);
/// inlined, so that the entry frame of the stack is `kasan_record_aux_stack` even
/// when it would tail-call this.
#[inline(always)]
pub fn record_aux(addr: usize, fp: usize) {
    let t = track(fp);
    with_heap!(h => h.record_aux(addr, t.stack));
}

/// A report: the call trace is taken here, on the stack of the code that hit the
/// bug (half a KiB); the rest runs on the report stack (`Platform::on_report_stack`).
/// Everything it does is the runtime's own (`own`). A non-zero `pc` is an address
/// inside the checked function that found the bug (`strlen`), put on top of the
/// trace as Linux's own frame of an instrumented function would be.
fn report(kind: Kind, addr: usize, size: usize, is_write: bool, fp: usize, pc: usize) -> bool {
    if !ready() || !config().enabled || (kind == Kind::Access && suppressed()) {
        return false;
    }
    // Memory the program mapped below the shadow's range: the outline and range
    // checks see no shadow there and land here; the inline checks read its zeros.
    if kind == Kind::Access && kasan_hosted::memory::in_low_mapping(addr, size) {
        return false;
    }
    own(|| {
        let mut frames = core::mem::MaybeUninit::<[usize; 64]>::uninit();
        // SAFETY: every bit pattern is a valid usize, so an uninitialised array of
        // them may be written through; only the `n` frames the walk stored are read.
        let frames = unsafe { &mut *frames.as_mut_ptr() };
        let first = usize::from(pc != 0);
        frames[0] = pc;
        let n = first + task::save_stack_unwound(fp, &mut frames[first..]);
        let bug = Bug {
            kind,
            addr,
            size,
            is_write,
            trace: &frames[..n],
        };
        // A report counts as a runtime call: an allocation in a signal handler that
        // interrupted it must not wait for a lock (the report lock's holder is this
        // thread; a thread in `fork` may hold the allocator's and wait for it).
        let _mask = AsyncSignalsBlocked::new();
        entry(|| REPORTER.report(&context(), &bug))
    })
}

/// Asynchronous signals held off for a scope (a report), as Linux prints a report
/// with interrupts disabled: a handler then runs after the report, not inside it
/// (where a bug of its own could only be queued, and a `longjmp` out of it would
/// leave the report lock held). Faults (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP,
/// SIGSYS) stay deliverable.
struct AsyncSignalsBlocked(libc::sigset_t);

impl AsyncSignalsBlocked {
    fn new() -> AsyncSignalsBlocked {
        // SAFETY: the sets are initialised by sigfillset/sigdelset before use; the
        // old mask is written into `old`.
        unsafe {
            let mut set: libc::sigset_t = core::mem::zeroed();
            let mut old: libc::sigset_t = core::mem::zeroed();
            libc::sigfillset(&mut set);
            for sig in [
                libc::SIGSEGV,
                libc::SIGBUS,
                libc::SIGILL,
                libc::SIGFPE,
                libc::SIGTRAP,
                libc::SIGSYS,
            ] {
                libc::sigdelset(&mut set, sig);
            }
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old);
            AsyncSignalsBlocked(old)
        }
    }
}

impl Drop for AsyncSignalsBlocked {
    fn drop(&mut self) {
        // SAFETY: restores the mask saved by `new` on this thread.
        unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &self.0, core::ptr::null_mut()) };
    }
}

/// A failed access check made by the caller of the entry point whose frame is `fp`;
/// returns whether a report was printed (Linux's `kasan_report`).
#[cold]
#[inline(never)]
pub fn report_access(addr: usize, size: usize, is_write: bool, fp: usize) -> bool {
    report(Kind::Access, addr, size, is_write, fp, 0)
}

/// A bad access found by a checked function (`strlen`, `strscpy`, ...) whose code is
/// at `pc` and whose frame is `fp`: the report's first frame is that function, as in
/// Linux, where these are instrumented code. An access the runtime made itself
/// (inside `own`) passes. Returns whether a report was printed.
#[cold]
#[inline(never)]
pub fn report_access_in(pc: usize, addr: usize, size: usize, is_write: bool, fp: usize) -> bool {
    if own::is_own(fp) {
        return false;
    }
    report(Kind::Access, addr, size, is_write, fp, pc)
}

/// A failed inline check of an address without shadow (the NULL page) by the
/// caller of the entry point whose frame is `fp`, printed as the general
/// protection fault Linux's inline code takes there (`shadow_addr`: the shadow
/// address that fault names). Returns whether it was printed.
#[cold]
#[inline(never)]
pub fn report_gpf(addr: usize, size: usize, is_write: bool, shadow_addr: usize, fp: usize) -> bool {
    if !ready() || !config().enabled || suppressed() {
        return false;
    }
    own(|| {
        let mut frames = [0usize; 64];
        let n = task::save_stack(fp, 0, &mut frames);
        let fault = kasan_core::report::Gpf {
            shadow_addr,
            addr: addr & !(kasan_core::shadow::GRANULE_SIZE - 1),
            access: Some((size, is_write)),
            regs: None,
        };
        let _mask = AsyncSignalsBlocked::new();
        entry(|| REPORTER.report_shadow_fault(&context(), &fault, &frames[..n]));
    });
    true
}

/// A bad free (`invalid-free` or `double-free`) by the caller of the entry point
/// whose frame is `fp`.
#[cold]
#[inline(never)]
pub fn report_free(addr: usize, double: bool, fp: usize) {
    let kind = if double {
        Kind::DoubleFree
    } else {
        Kind::InvalidFree
    };
    report(kind, addr, 0, true, fp, 0);
}

/// Checks an access of `size` bytes at `addr` made by the caller of the entry
/// point whose frame is `fp`; returns false if it was bad and reported.
#[inline(always)]
pub fn check(addr: usize, size: usize, is_write: bool, fp: usize) -> bool {
    if !ready() {
        return true;
    }
    if mode() == RunMode::SwTags {
        // A tail call: generic mode's inlined checks (`__asan_*`) keep their code.
        return check_sw_tags(addr, size, is_write, fp);
    }
    SHADOW.check(addr, size) || !check_failed(addr, size, is_write, fp)
}

/// [`check`] in sw-tags mode (the checked functions and the kernel API call `check`
/// in both modes).
#[inline(never)]
fn check_sw_tags(addr: usize, size: usize, is_write: bool, fp: usize) -> bool {
    tags_check(addr, size) || !check_failed(addr, size, is_write, fp)
}

/// The mode's access check alone (no report): generic shadow, or pointer tag against
/// memory tag.
#[inline(always)]
pub fn access_ok(addr: usize, size: usize) -> bool {
    match mode() {
        RunMode::Generic => SHADOW.check(addr, size),
        RunMode::SwTags => tags().check(addr, size),
    }
}

/// Checks an access of `size` bytes at the tagged `addr` (a `__hwasan_*` callback)
/// made by the caller of the entry point whose frame is `fp`; returns false if it was
/// bad and reported. In a generic process the call passes (see [`hwasan_in_generic`]).
#[inline(always)]
pub fn check_tagged(addr: usize, size: usize, is_write: bool, fp: usize) -> bool {
    if !ready() {
        return true;
    }
    match mode() {
        RunMode::SwTags => tags_check(addr, size) || !check_failed(addr, size, is_write, fp),
        RunMode::Generic => {
            hwasan_in_generic();
            true
        }
    }
}

/// A `__hwasan_*` callback in a generic-mode process: code built with `--mode=sw-tags`
/// (a `dlopen`'d library) in a program built without it. Its pointers carry no tags
/// and generic memory has no tag shadow, so its accesses are not checked; one line
/// says so, once.
#[cold]
#[inline(never)]
fn hwasan_in_generic() {
    static SAID: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);
    // Relaxed: only one caller must win the swap; nothing else hangs on the flag.
    if SAID.swap(true, Ordering::Relaxed) {
        return;
    }
    own(|| {
        output::write_message::<512>(
            b"kasan: code built with --mode=sw-tags runs in a generic-mode program: its accesses are not checked (build the program with kasan cc --mode=sw-tags)\n",
        )
    });
}

/// `__hwasan_tag_memory(addr, tag, size)`: Linux's `kasan_poison(addr, size, tag)` on
/// heap granules (sw-tags only; a generic process ignores it).
pub fn tag_memory(addr: usize, tag: u8, size: usize) {
    if !ready() {
        return;
    }
    match mode() {
        RunMode::SwTags => tags_poison(addr, size, tag),
        RunMode::Generic => hwasan_in_generic(),
    }
}

/// `kasan_reset_tag`: the match-all pointer to the memory of `addr`.
pub fn reset_tag(addr: usize) -> usize {
    ensure_init();
    match mode() {
        RunMode::SwTags => tags_untag(addr),
        RunMode::Generic => addr,
    }
}

/// `addr` without its tag (the allocator's own address for heap memory; generic:
/// `addr`).
#[inline(always)]
pub fn untag(addr: usize) -> usize {
    match mode() {
        RunMode::SwTags => tags_untag(addr),
        RunMode::Generic => addr,
    }
}

/// `kasan_set_tag`: `addr` carrying `tag`.
pub fn set_tag(addr: usize, tag: u8) -> usize {
    ensure_init();
    match mode() {
        RunMode::SwTags => tags_with_tag(addr, tag),
        RunMode::Generic => addr,
    }
}

/// `kasan_get_tag`: the tag of `addr` (generic: 0xFF, Linux's `KASAN_TAG_KERNEL` of
/// an untagged pointer).
pub fn get_tag(addr: usize) -> u8 {
    ensure_init();
    match mode() {
        RunMode::SwTags => tags_tag_of(addr),
        RunMode::Generic => 0xFF,
    }
}

fn tags_untag(addr: usize) -> usize {
    tags().shadow.carrier().untag(addr)
}

fn tags_with_tag(addr: usize, tag: u8) -> usize {
    tags().shadow.carrier().with_tag(addr, tag)
}

fn tags_tag_of(addr: usize) -> u8 {
    tags().shadow.carrier().tag(addr)
}

/// The tag check of a `__hwasan_*` callback (after `ready()`).
#[inline(always)]
fn tags_check(addr: usize, size: usize) -> bool {
    // SAFETY: READY was observed (Acquire) by the caller, so `init`'s write of the
    // region is visible and final; the region's tag shadow covers its arena and stays
    // mapped for the process's life.
    unsafe { region_check(&*TAG_REGION.0.get(), addr, size) }
}

/// `__hwasan_tag_memory`: the granules of `[addr, addr + size)` get `tag` (heap
/// memory only; the shadow ignores the rest).
fn tags_poison(addr: usize, size: usize, tag: u8) {
    tags().shadow.poison(addr, size, tag);
}

/// A check that failed: an access the runtime made itself (its Rust code calling
/// the checked `memcpy`/`memset`/`memmove`, inside `own`) passes; any other is
/// reported. Returns whether it was reported.
#[cold]
#[inline(never)]
fn check_failed(addr: usize, size: usize, is_write: bool, fp: usize) -> bool {
    if own::is_own(fp) {
        return false;
    }
    report_access(addr, size, is_write, fp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kasan_core::sw_tags::AliasCarrier;

    /// `region_check` answers as `TagShadow::check` over the same layout, for every
    /// kind of address: match-all and untagged, each tag, inside the arena, across its
    /// end, across granules with other tags, zero and large sizes, ranges that wrap.
    #[test]
    fn region_check_is_tag_shadow_check() {
        const LEN: usize = 1 << 16;
        let base = 0x1000_0000_0000usize;
        let mut tags = std::vec![0u8; LEN / 16];
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut rand = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        // Runs of granules with one tag (0..=0xF), as objects are laid out.
        let mut i = 0;
        while i < tags.len() {
            let run = 1 + (rand() % 8) as usize;
            let t = (rand() % 16) as u8;
            for g in tags.iter_mut().skip(i).take(run) {
                *g = t;
            }
            i += run;
        }
        let r = TagRegion {
            base,
            len: LEN,
            shadow: tags.as_ptr() as usize,
        };
        let carrier = AliasCarrier {
            base,
            shift: tagged::TAG_SHIFT,
            kernel: tagged::KERNEL_TAG,
        };
        // SAFETY: `tags` holds one byte per granule of `[base, base + LEN)` and outlives
        // the shadow; no other memory is read through it.
        let shadow = unsafe {
            TagShadow::new(
                (tags.as_ptr() as usize).wrapping_sub(base >> 4),
                base,
                base + LEN,
                carrier,
                X86_64,
            )
        };
        let mut agreed = [0usize; 2];
        let mut tagged_pass = 0usize;
        for _ in 0..200_000 {
            let alias = (rand() % 18) as usize;
            let off = (rand() as usize) % (LEN + 64);
            let addr = match rand() % 16 {
                0 => usize::MAX - (rand() as usize % 32),
                1 => rand() as usize % 4096,
                _ => base + (alias << tagged::TAG_SHIFT) + off,
            };
            let size = match rand() % 8 {
                0 => 0,
                1 => 1 + (rand() as usize % 200),
                2 => usize::MAX / 2,
                n => 1 << (n - 3),
            };
            let want = shadow.check(addr, size);
            // SAFETY: `tags` covers `r`'s arena.
            let got = unsafe { region_check(&r, addr, size) };
            assert_eq!(got, want, "addr {addr:#x} size {size}");
            agreed[usize::from(want)] += 1;
            if want && size > 0 && (1..=15).contains(&alias) && addr > base {
                tagged_pass += 1;
            }
        }
        // Both answers were exercised, many times, passes through a real tag too.
        assert!(agreed[0] > 10_000 && agreed[1] > 10_000, "{agreed:?}");
        assert!(tagged_pass > 1_000, "{tagged_pass}");
    }
}
