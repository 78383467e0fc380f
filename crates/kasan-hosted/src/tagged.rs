//! The software tag-based mode's heap in a Linux process (sw-tags only): one memfd
//! mapped at 16 aliases so that the pointer tag can live in the address bits that
//! pick the alias, the tag shadow of the arena, the page source the slab heap runs
//! on ([`TaggedPages`]), page discard by punching holes, resident-memory figures,
//! and the fork protocol that keeps a child's heap apart from its parent's although
//! every alias is `MAP_SHARED`.
//!
//! ```text
//!  R = base, aligned to 16 << shift (shift 40: 16 TiB of address space)
//!  R +  0 << shift   alias  0   tag 0xF  match-all: the untagged address the allocator uses
//!  R +  1 << shift   alias  1   tag 0xE  (INVALID: never handed out)
//!  R +  2 << shift   alias  2   tag 0xD
//!  ...                                   alias a carries tag a ^ 0xF
//!  R + 15 << shift   alias 15   tag 0x0
//!  every alias maps the same memfd [0, 1 << shift): MAP_SHARED | MAP_FIXED | MAP_NORESERVE
//!
//!  shadow: (1 << shift) / 16 bytes, private anonymous, anywhere;
//!          the tag of the granule at untag(p) is byte (untag(p) - R) >> 4
//! ```
//!
//! Page discard must punch a hole in the memfd (`MADV_REMOVE` on alias 0):
//! `MADV_DONTNEED` on a shared mapping only drops that alias's page-table entries
//! and frees nothing. Resident memory is the memfd's (`st_blocks`), counted once:
//! `VmRSS` counts a page once per alias it is touched through. The memfd's
//! descriptor (close-on-exec, moved to 1000 or above) is checked by identity before
//! each use, since a program may close it and reuse the number.
//!
//! Fork (design §3.4, the `fork_alias.c` prototype ported): after a plain `fork` both
//! processes would map the same memfd pages, so every heap write would leak to the
//! other side. [`TaggedHeap::fork_prepare`] (all runtime locks already held) opens a
//! pipe and parks the process's other threads in a signal handler; in the child,
//! [`TaggedHeap::fork_child`] copies the memfd's data extents into a new memfd
//! (`SEEK_DATA`/`SEEK_HOLE`, `copy_file_range`), maps it over every alias, moves it to
//! the old descriptor number and writes one byte to the pipe; the parent's
//! [`TaggedHeap::fork_parent`] waits for that byte (or EOF: the child died) before the
//! parked threads resume. A child that cannot make its heap private exits with
//! status 111 before any program code runs.
//!
//! # Safety
//!
//! Raw `mmap`/`memfd_create`/`fallocate`/`futex`/signal calls live here; each says
//! which range or descriptor it owns. Everything on the fork path neither allocates
//! nor takes a lock (the runtime holds its allocator's lock around a fork).
#![allow(unsafe_code)]

use core::ffi::c_int;
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64, AtomicUsize, Ordering};

use kasan_core::sync::SpinLock;

use crate::memory::{self, MapError};
use crate::{output, task};

/// Number of aliases: one per value of a 4-bit tag.
pub const ALIASES: usize = 16;
/// The address bit where the alias index (the tag, complemented) starts, preferred;
/// smaller shifts are tried when the address space for 16 TiB is not available.
pub const TAG_SHIFT: u32 = 40;
/// The shifts `init` tries, in order (alias sizes 1 TiB, 64 GiB, 4 GiB).
const SHIFTS: [u32; 3] = [TAG_SHIFT, 36, 32];
/// The match-all tag (Linux's x86 `KASAN_TAG_KERNEL`): alias 0, and every address
/// outside the region.
pub const KERNEL_TAG: u8 = 0xF;
/// Bytes of memory per shadow byte (the 16-byte granule).
pub const GRANULE: usize = 16;
const PAGE: usize = 4096;
/// Exit status of a child that could not make its heap private.
pub const CHILD_FAILED: i32 = 111;
/// How long `fork_prepare` waits for the other threads to park.
const STOP_WAIT_NS: u64 = 100_000_000;
/// How long `fork_parent` waits for the parked threads to leave the handler.
const RESUME_WAIT_NS: u64 = 1_000_000_000;

/// The process's one region, published by `init` (Release on `BASE`, Acquire in
/// [`get`]); the other fields are written before `BASE` and never change after.
static BASE: AtomicUsize = AtomicUsize::new(0);
static SHIFT: AtomicU32 = AtomicU32::new(0);
static SHADOW_BASE: AtomicUsize = AtomicUsize::new(0);
/// The memfd's descriptor and identity. A program may close the descriptor (and
/// reuse its number): every use checks the identity first (`memfd`). A fork child
/// moves its heap to a new memfd: it writes all three, being single-threaded then;
/// a descriptor reopened after a close is written by the thread that reopens it.
/// Relaxed everywhere: the identity check, not the ordering, decides.
static FD: AtomicI32 = AtomicI32::new(-1);
static FD_DEV: AtomicU64 = AtomicU64::new(0);
static FD_INO: AtomicU64 = AtomicU64::new(0);
/// Serialises `init` callers.
static INIT: SpinLock<()> = SpinLock::new(());

/// A handle to the process's tagged heap region (all of it is process-wide state:
/// there is one region per process). Copy it freely.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaggedHeap {
    base: usize,
    shift: u32,
    shadow: usize,
}

/// The region if [`init`] has succeeded.
pub fn get() -> Option<TaggedHeap> {
    // Acquire: pairs with the Release store of BASE at the end of `init`, so the
    // other fields are visible.
    let base = BASE.load(Ordering::Acquire);
    (base != 0).then(|| TaggedHeap {
        base,
        // Relaxed: written before the Release store of BASE (see above).
        shift: SHIFT.load(Ordering::Relaxed),
        shadow: SHADOW_BASE.load(Ordering::Relaxed),
    })
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Maps the tagged heap: the region of 16 aliases of one memfd, its shadow, and the
/// signal handler that parks threads during a fork. A second call returns the
/// region the first one made.
pub fn init() -> Result<TaggedHeap, MapError> {
    let _guard = INIT.lock();
    if let Some(heap) = get() {
        return Ok(heap);
    }
    let mut last = MapError { errno: 0 };
    for shift in SHIFTS {
        match map_region(shift) {
            Ok((heap, fd)) => {
                install_park_handler();
                set_memfd(fd);
                // Relaxed: published by the Release store of BASE below.
                SHIFT.store(heap.shift, Ordering::Relaxed);
                SHADOW_BASE.store(heap.shadow, Ordering::Relaxed);
                // Release: pairs with the Acquire load in `get`.
                BASE.store(heap.base, Ordering::Release);
                return Ok(heap);
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Reserves `16 << shift` bytes aligned to their size, maps the memfd at every alias
/// and maps the shadow; undoes everything on failure.
fn map_region(shift: u32) -> Result<(TaggedHeap, i32), MapError> {
    let alias = 1usize << shift;
    let span = ALIASES << shift;
    // SAFETY: a new PROT_NONE reservation at an address the kernel picks overlaps
    // nothing of the process's.
    let r = unsafe {
        crate::sys::mmap(
            core::ptr::null_mut(),
            2 * span,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if r == libc::MAP_FAILED {
        return Err(MapError { errno: errno() });
    }
    let r = r as usize;
    let base = r.next_multiple_of(span);
    // SAFETY: both trimmed pieces are parts of the reservation just made, outside
    // [base, base + span); munmap of an empty range is skipped.
    unsafe {
        if base > r {
            crate::sys::munmap(r as *mut libc::c_void, base - r);
        }
        crate::sys::munmap(
            (base + span) as *mut libc::c_void,
            r + 2 * span - (base + span),
        );
    }
    let unreserve = || {
        // SAFETY: [base, base + span) is the reservation (or aliases mapped over it),
        // ours alone, and nothing uses it yet.
        unsafe { crate::sys::munmap(base as *mut libc::c_void, span) };
    };
    let fd = match new_memfd(alias) {
        Ok(fd) => fd,
        Err(e) => {
            unreserve();
            return Err(e);
        }
    };
    let shadow = match map_aliases(base, shift, fd).and_then(|()| map_tag_shadow(alias / GRANULE)) {
        Ok(shadow) => shadow,
        Err(e) => {
            unreserve();
            // SAFETY: the memfd made above, not shared with anything.
            unsafe { libc::close(fd) };
            return Err(e);
        }
    };
    Ok((
        TaggedHeap {
            base,
            shift,
            shadow,
        },
        fd,
    ))
}

/// Maps the tag shadow (`len` bytes, private anonymous) between two `PROT_NONE`
/// pages, so that the kernel never merges it with a neighbouring mapping: its real
/// pages are then exactly the anonymous pages of the mappings inside it
/// ([`TaggedHeap::shadow_resident_bytes`]), however its shared pages split it.
fn map_tag_shadow(len: usize) -> Result<usize, MapError> {
    let p = memory::map_anonymous(len + 2 * PAGE).ok_or(MapError { errno: errno() })?;
    for guard in [p, p + PAGE + len] {
        // SAFETY: a page of the mapping just made, ours alone.
        unsafe { libc::mprotect(guard as *mut libc::c_void, PAGE, libc::PROT_NONE) };
    }
    Ok(p + PAGE)
}

/// Records `fd` as the heap's memfd, with its identity.
fn set_memfd(fd: i32) {
    // SAFETY: fstat fills one struct from a descriptor we own.
    let (dev, ino) = unsafe {
        let mut st: libc::stat = core::mem::zeroed();
        libc::fstat(fd, &mut st);
        (st.st_dev, st.st_ino)
    };
    // Relaxed: see `FD`.
    FD.store(fd, Ordering::Relaxed);
    FD_DEV.store(dev, Ordering::Relaxed);
    FD_INO.store(ino, Ordering::Relaxed);
}

/// Whether `fd` is (still) the heap's memfd.
fn is_memfd(fd: i32) -> bool {
    // SAFETY: fstat fills one struct; a closed or foreign descriptor fails the check.
    unsafe {
        let mut st: libc::stat = core::mem::zeroed();
        fd >= 0
            && libc::fstat(fd, &mut st) == 0
            // Relaxed: see `FD`.
            && st.st_dev == FD_DEV.load(Ordering::Relaxed)
            && st.st_ino == FD_INO.load(Ordering::Relaxed)
    }
}

/// The heap's memfd: the recorded descriptor if it still is the memfd; otherwise
/// (the program closed it) a new descriptor of it opened through
/// `/proc/self/map_files` (which needs `CAP_CHECKPOINT_RESTORE` or
/// `CAP_SYS_ADMIN`), moved high; `None` if there is none.
fn memfd(heap: &TaggedHeap) -> Option<i32> {
    // Relaxed: see `FD`.
    let fd = FD.load(Ordering::Relaxed);
    if is_memfd(fd) {
        return Some(fd);
    }
    // "/proc/self/map_files/<start>-<end>" of alias 0, built without allocating.
    let mut path = [0u8; 64];
    let mut len = 0;
    let mut put = |bytes: &[u8]| {
        path[len..len + bytes.len()].copy_from_slice(bytes);
        len += bytes.len();
    };
    let mut hex = [0u8; 16];
    put(b"/proc/self/map_files/");
    put(hex_digits(heap.base, &mut hex));
    put(b"-");
    put(hex_digits(heap.base + heap.arena_size(), &mut hex));
    // SAFETY: `path` is NUL-terminated (zero-filled past `len`); open makes a new
    // descriptor.
    let fd = unsafe { libc::open(path.as_ptr().cast(), libc::O_RDWR | libc::O_CLOEXEC) };
    if fd < 0 {
        return None;
    }
    if !is_memfd(fd) {
        // SAFETY: the descriptor just opened.
        unsafe { libc::close(fd) };
        return None;
    }
    let fd = memory::move_fd_high(fd);
    // Relaxed: see `FD`.
    FD.store(fd, Ordering::Relaxed);
    Some(fd)
}

/// `n` in lower-case hex without leading zeros, into `buf`.
fn hex_digits(mut n: usize, buf: &mut [u8; 16]) -> &[u8] {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b"0123456789abcdef"[n & 15];
        n >>= 4;
        if n == 0 {
            return &buf[at..];
        }
    }
}

/// A new sparse memfd of `len` bytes, close-on-exec, moved to a high descriptor.
fn new_memfd(len: usize) -> Result<i32, MapError> {
    // SAFETY: memfd_create with a NUL-terminated name makes a new descriptor.
    let fd = unsafe { libc::memfd_create(c"kasan-heap".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(MapError { errno: errno() });
    }
    // SAFETY: ftruncate of the memfd just made.
    if unsafe { libc::ftruncate(fd, len as libc::off_t) } != 0 {
        let e = errno();
        // SAFETY: the memfd just made.
        unsafe { libc::close(fd) };
        return Err(MapError { errno: e });
    }
    Ok(memory::move_fd_high(fd))
}

/// Maps `fd` `[0, 1 << shift)` at every alias of the region at `base`, replacing
/// what is there (the reservation, or the aliases of another memfd).
fn map_aliases(base: usize, shift: u32, fd: i32) -> Result<(), MapError> {
    for a in 0..ALIASES {
        let at = base + (a << shift);
        // SAFETY: [at, at + 1 << shift) is alias `a` of the region, which this module
        // owns; MAP_FIXED replaces only that range.
        let p = unsafe {
            crate::sys::mmap(
                at as *mut libc::c_void,
                1 << shift,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_FIXED | libc::MAP_NORESERVE,
                fd,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(MapError { errno: errno() });
        }
    }
    Ok(())
}

impl TaggedHeap {
    /// The region's start: alias 0, the arena's untagged base (`AliasCarrier::base`).
    pub fn base(&self) -> usize {
        self.base
    }
    /// The first address bit of the alias index (`AliasCarrier::shift`): 40 normally.
    pub fn shift(&self) -> u32 {
        self.shift
    }
    /// The match-all tag (`AliasCarrier::kernel`).
    pub fn kernel_tag(&self) -> u8 {
        KERNEL_TAG
    }
    /// The size of one alias, which is also the arena's (and the memfd's) size.
    pub fn arena_size(&self) -> usize {
        1 << self.shift
    }
    /// The arena to give the slab heap (`Heap::init(base, size)`): all of alias 0.
    pub fn arena(&self) -> (usize, usize) {
        (self.base, self.arena_size())
    }
    /// The whole region's length: 16 aliases.
    pub fn region_len(&self) -> usize {
        ALIASES << self.shift
    }
    /// The first byte of the tag shadow: the tag of the arena's first granule.
    pub fn shadow_base(&self) -> usize {
        self.shadow
    }
    /// The shadow's length: one byte per 16-byte granule of the arena.
    pub fn shadow_len(&self) -> usize {
        self.arena_size() / GRANULE
    }
    /// The offset in `shadow = offset + (untag(p) >> 4)` (wrapping arithmetic), the
    /// form `TagShadow::new` takes.
    pub fn shadow_offset(&self) -> usize {
        self.shadow.wrapping_sub(self.base >> 4)
    }
    /// The shadow byte of the granule holding `addr` (any alias), if it is in the arena.
    pub fn shadow_addr(&self, addr: usize) -> Option<usize> {
        self.contains(addr)
            .then(|| self.shadow + ((self.untag(addr) - self.base) >> 4))
    }
    /// The memfd's descriptor (close-on-exec; kept at this number across forks
    /// unless the program closed it), or -1 if it has none any more.
    pub fn fd(&self) -> i32 {
        memfd(self).unwrap_or(-1)
    }
    /// Whether `addr` is in the region (in any alias).
    pub fn contains(&self, addr: usize) -> bool {
        addr >> (self.shift + 4) == self.base >> (self.shift + 4)
    }
    /// The tag `addr` carries: its alias index complemented; [`KERNEL_TAG`] outside
    /// the region.
    pub fn tag(&self, addr: usize) -> u8 {
        if self.contains(addr) {
            (((addr >> self.shift) & 0xF) as u8) ^ KERNEL_TAG
        } else {
            KERNEL_TAG
        }
    }
    /// `addr` in alias 0 (the match-all alias); addresses outside the region are
    /// returned as they are.
    pub fn untag(&self, addr: usize) -> usize {
        if self.contains(addr) {
            addr & !(0xF << self.shift)
        } else {
            addr
        }
    }
    /// `addr` in the alias of `tag` (its low 4 bits); addresses outside the region
    /// cannot carry a tag and are returned as they are.
    pub fn with_tag(&self, addr: usize, tag: u8) -> usize {
        if self.contains(addr) {
            self.untag(addr) | ((((tag ^ KERNEL_TAG) & 0xF) as usize) << self.shift)
        } else {
            addr
        }
    }

    /// Gives the memory of whole pages `[addr, addr + len)` of the arena (any alias)
    /// back: a hole is punched in the memfd (`MADV_REMOVE` on alias 0, which needs
    /// no descriptor), which unmaps the pages from every alias; they read as zero
    /// afterwards. Ranges outside the arena are ignored.
    pub fn discard(&self, addr: usize, len: usize) {
        if len == 0 || !self.contains(addr) || !self.contains(addr + len - 1) {
            return;
        }
        let start = self.untag(addr);
        if start - self.base + len > self.arena_size() {
            return;
        }
        // SAFETY: whole pages of alias 0 of our region, which the heap has freed, so
        // nothing holds references into them; MADV_REMOVE punches them out of the
        // memfd.
        unsafe { libc::madvise(start as *mut libc::c_void, len, libc::MADV_REMOVE) };
    }

    /// Maps the memory of whole pages `[src, src + len)` of the arena a second time
    /// at `[dst, dst + len)`, in every alias (Linux's `vmap` of pages into a vmalloc
    /// area): both ranges then show the same memory. The aliases are `MAP_SHARED`,
    /// so `mremap` with an old size of 0 duplicates the mapping. On failure `dst` is
    /// mapped back to its own pages and false returned.
    pub fn alias_pages(&self, dst: usize, src: usize, len: usize) -> bool {
        let (dst, src) = (self.untag(dst), self.untag(src));
        if !self.in_arena(dst, len) || !self.in_arena(src, len) {
            return false;
        }
        for a in 0..ALIASES {
            let off = a << self.shift;
            // SAFETY: both ranges are whole pages of alias `a` of our region; the
            // caller (vmap) owns `[dst, dst + len)`, a live vmalloc area whose own
            // memory nothing else refers to, and MAP_FIXED replaces only that range.
            let r = unsafe {
                crate::sys::mremap(
                    (src + off) as *mut libc::c_void,
                    0,
                    len,
                    libc::MREMAP_MAYMOVE | libc::MREMAP_FIXED,
                    (dst + off) as *mut libc::c_void,
                )
            };
            if r == libc::MAP_FAILED {
                self.restore_pages(dst, len);
                return false;
            }
        }
        true
    }

    /// Maps whole pages `[dst, dst + len)` of the arena back to their own memfd
    /// pages in every alias (after [`TaggedHeap::alias_pages`]); false if the kernel
    /// refused or the memfd is gone.
    pub fn restore_pages(&self, dst: usize, len: usize) -> bool {
        let dst = self.untag(dst);
        let Some(fd) = memfd(self) else {
            return false;
        };
        if !self.in_arena(dst, len) {
            return false;
        }
        let mut ok = true;
        for a in 0..ALIASES {
            let off = a << self.shift;
            // SAFETY: whole pages of alias `a` of our region, owned by the caller's
            // vmalloc area; they get back the memfd pages at their own offset, as
            // `init` mapped them.
            let r = unsafe {
                crate::sys::mmap(
                    (dst + off) as *mut libc::c_void,
                    len,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_SHARED | libc::MAP_FIXED | libc::MAP_NORESERVE,
                    fd,
                    (dst - self.base) as libc::off_t,
                )
            };
            ok &= r != libc::MAP_FAILED;
        }
        ok
    }

    fn in_arena(&self, untagged: usize, len: usize) -> bool {
        len > 0
            && untagged.is_multiple_of(4096)
            && len.is_multiple_of(4096)
            && untagged >= self.base
            && untagged - self.base + len <= self.arena_size()
    }

    /// Bytes of the heap that are resident: the memfd's allocated pages (`st_blocks`),
    /// each counted once however many aliases map it. 0 if `fstat` fails.
    pub fn resident_bytes(&self) -> usize {
        let Some(fd) = memfd(self) else {
            return 0;
        };
        // SAFETY: fstat fills one struct from our descriptor.
        unsafe {
            let mut st: libc::stat = core::mem::zeroed();
            if libc::fstat(fd, &mut st) != 0 {
                return 0;
            }
            st.st_blocks as usize * 512
        }
    }

    /// The proportional set size of the region's mappings (all aliases), from
    /// `/proc/self/smaps`: what the process's heap costs, pages mapped through several
    /// aliases counted once (for statistics and benchmarks; allocates through the
    /// runtime's own allocator, so not on the fork or report path).
    pub fn pss_bytes(&self) -> Option<usize> {
        let smaps = std::fs::read_to_string("/proc/self/smaps").ok()?;
        let (low, high) = (self.base, self.base + self.region_len());
        let mut inside = false;
        let mut total = 0usize;
        let mut seen = false;
        for line in smaps.lines() {
            if let Some((start, _)) = line.split_once('-').filter(|(s, rest)| {
                !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit()) && rest.contains(' ')
            }) {
                let start = usize::from_str_radix(start, 16).ok()?;
                inside = (low..high).contains(&start);
            } else if inside {
                if let Some(kb) = line.strip_prefix("Pss:") {
                    let kb: usize = kb.trim().trim_end_matches("kB").trim().parse().ok()?;
                    total += kb * 1024;
                    seen = true;
                }
            }
        }
        seen.then_some(total)
    }

    /// Real bytes of the tag shadow: the anonymous pages of the mappings inside it
    /// (its shared pages are the tag memfd's), from `/proc/self/smaps`; allocates, as
    /// [`TaggedHeap::pss_bytes`].
    pub fn shadow_resident_bytes(&self) -> Option<usize> {
        crate::memory::anonymous_bytes_in(self.shadow, self.shadow + self.shadow_len())
    }
}

/// The slab heap's page source for the tagged region (`kasan_slab::Host`): the arena
/// itself is [`TaggedHeap::arena`]; discard punches holes, guard pages stay mapped
/// (their shadow is INVALID, so tagged accesses report; an `mprotect` would have to
/// be done in all 16 aliases), table segments are private anonymous memory.
#[derive(Debug, Default, Clone, Copy)]
pub struct TaggedPages;

impl kasan_slab::Host for TaggedPages {
    fn discard(&self, addr: usize, len: usize) {
        if let Some(heap) = get() {
            heap.discard(addr, len);
        }
    }
    fn protect(&self, _addr: usize, _len: usize, _accessible: bool) {}
    fn cpu(&self) -> usize {
        task::cpu() as usize
    }
    fn map(&self, bytes: usize) -> Option<usize> {
        memory::map_anonymous(bytes)
    }
    fn now_ns(&self) -> u64 {
        task::now_ns()
    }
}

// ---- fork ----------------------------------------------------------------------
//
// Parking the other threads (parent, between prepare and parent):
//
//   forker                                   each other thread (in `park`)
//   STOP_EPOCH = EPOCH + 1  (Release) ─┐
//   tgkill(tid, PARK_SIGNAL) ... ──────┼──>  t = STOP_EPOCH (Acquire); EPOCH < t:
//   wait PARKED == sent (Acquire) <────┼───  PARKED += 1 (Release: its heap writes)
//   fork; child copies; pipe byte      │     futex_wait(EPOCH) while EPOCH < t
//   EPOCH = t (Release), FUTEX_WAKE ───┴──>  (Acquire) PARKED -= 1 (Release), return
//   wait PARKED == 0 (Acquire)
//
// A signal that arrives late (the thread had it blocked) finds EPOCH == t and
// returns at once.

/// The futex word the parked threads wait on: the number of stops that are over.
static EPOCH: AtomicU32 = AtomicU32::new(0);
/// The epoch the current stop ends with (EPOCH reaches it on resume).
static STOP_EPOCH: AtomicU32 = AtomicU32::new(0);
/// Threads currently inside `park`.
static PARKED: AtomicU32 = AtomicU32::new(0);
/// The signal `park` is installed for (0 if the handler could not be installed).
static PARK_SIGNAL: AtomicI32 = AtomicI32::new(0);
/// The pipe between prepare and the child / parent handlers: read end, write end.
static PIPE_READ: AtomicI32 = AtomicI32::new(-1);
static PIPE_WRITE: AtomicI32 = AtomicI32::new(-1);
/// Set between `fork_prepare` and `fork_parent` / `fork_child`.
static IN_FORK: AtomicBool = AtomicBool::new(false);
/// Threads between [`TaggedHeap::fork_enter`] and their own `fork_prepare`: they
/// fork too, with every signal blocked, and wait for the runtime's locks (which the
/// forker holds) without touching the heap, so they count as stopped.
static FORK_WAITERS: AtomicU32 = AtomicU32::new(0);

std::thread_local! {
    /// Whether this thread is counted in `FORK_WAITERS`.
    static ENTERED: core::cell::Cell<bool> = const { core::cell::Cell::new(false) };
}

/// Whether epoch `e` has reached `target` (wrapping).
fn reached(e: u32, target: u32) -> bool {
    e.wrapping_sub(target) as i32 >= 0
}

/// The signal that parks threads during a fork: `SIGRTMAX - 1` (glibc keeps the
/// lowest real-time signals for itself).
pub fn park_signal() -> c_int {
    libc::SIGRTMAX() - 1
}

fn install_park_handler() {
    let sig = park_signal();
    // SAFETY: a zeroed sigaction with our handler (plain signature), every signal
    // blocked while it runs; the old action is not needed.
    let ok = unsafe {
        let mut action: libc::sigaction = core::mem::zeroed();
        action.sa_sigaction = park as *const () as usize;
        action.sa_flags = libc::SA_RESTART | libc::SA_ONSTACK;
        libc::sigfillset(&mut action.sa_mask);
        libc::sigaction(sig, &action, core::ptr::null_mut()) == 0
    };
    // Relaxed: read by the thread that forks, which called `init` (or saw it via
    // the Acquire in `get`).
    PARK_SIGNAL.store(if ok { sig } else { 0 }, Ordering::Relaxed);
}

/// Whether `park` is still the handler of `sig` (a program may install its own).
fn park_installed(sig: c_int) -> bool {
    // SAFETY: sigaction with a null new action only reads the current one.
    unsafe {
        let mut current: libc::sigaction = core::mem::zeroed();
        libc::sigaction(sig, core::ptr::null(), &mut current) == 0
            && current.sa_sigaction == park as *const () as usize
    }
}

/// The handler of [`park_signal`]: waits until the fork that sent it is over.
extern "C" fn park(_sig: c_int) {
    // SAFETY: __errno_location returns this thread's errno slot; it is restored so
    // the interrupted code sees its own value.
    let saved = unsafe { *libc::__errno_location() };
    // Acquire: pairs with the Release store of STOP_EPOCH in `stop_others`.
    let target = STOP_EPOCH.load(Ordering::Acquire);
    // Acquire: pairs with the Release store of EPOCH in `resume_others`.
    if !reached(EPOCH.load(Ordering::Acquire), target) {
        // Release: this thread's heap writes happen before the forker's Acquire
        // load of PARKED, hence before the fork and the child's copy.
        PARKED.fetch_add(1, Ordering::Release);
        // Bounded: a thread parked while holding a lock the forker then needs (glibc
        // takes `_IO_list_lock` and its malloc arenas after the prepare handlers)
        // would deadlock the fork. After PARK_LIMIT it goes on, as a thread of a native
        // fork runs on while the kernel copies: the child may then see its heap writes
        // half done, as it may see any running thread's.
        let mut waited = 0;
        loop {
            // Acquire: pairs with the Release store in `resume_others`.
            let e = EPOCH.load(Ordering::Acquire);
            if reached(e, target) {
                break;
            }
            if waited >= PARK_LIMIT_TICKS {
                // Relaxed: a flag for one line, publishing nothing.
                if !PARK_TIMED_OUT.swap(true, Ordering::Relaxed) {
                    let msg = b"kasan: fork: a thread stayed parked 2 s (a lock the fork needs?); it goes on, the child's copy may catch its writes half done\n";
                    // One write, a JSON object in JSON mode; safe in a signal handler.
                    output::write_message::<512>(msg);
                }
                break;
            }
            futex_wait_for(&EPOCH, e, PARK_TICK_NS);
            waited += 1;
        }
        // Release: pairs with the Acquire load in `resume_others`.
        PARKED.fetch_sub(1, Ordering::Release);
    }
    // SAFETY: as above.
    unsafe { *libc::__errno_location() = saved };
}

/// How long a parked thread waits at most: PARK_LIMIT_TICKS x PARK_TICK_NS = 2 s.
const PARK_TICK_NS: i64 = 100_000_000;
const PARK_LIMIT_TICKS: u32 = 20;

/// Whether a parked thread ever gave up waiting (one warning line).
static PARK_TIMED_OUT: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// Whether a parked thread ever gave up waiting for a fork (tests: a fork that took
/// the 2 s bound is slow for that reason).
pub fn park_timed_out() -> bool {
    // Relaxed: a flag read by tests after the forks are over.
    PARK_TIMED_OUT.load(Ordering::Relaxed)
}

/// Waits while `word` holds `expected`, for at most `ns` nanoseconds.
fn futex_wait_for(word: &AtomicU32, expected: u32, ns: i64) {
    let ts = libc::timespec {
        tv_sec: ns / 1_000_000_000,
        tv_nsec: ns % 1_000_000_000,
    };
    // SAFETY: FUTEX_WAIT on a live, aligned u32 of this process with a relative
    // timeout; returns at once if the word no longer holds `expected`.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
            expected,
            &ts as *const libc::timespec,
        )
    };
}

fn futex_wake_all(word: &AtomicU32) {
    // SAFETY: FUTEX_WAKE on a live, aligned u32 of this process.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
            i32::MAX,
        )
    };
}

fn yield_now() {
    // SAFETY: sched_yield has no preconditions.
    unsafe { libc::sched_yield() };
}

/// Signals every other thread of the process (listed from `/proc/self/task`, so
/// threads not made by `pthread_create` count too); returns how many were sent.
/// Signal 0 only counts the threads that exist.
fn signal_others(sig: c_int) -> u32 {
    // SAFETY: getpid and gettid have no preconditions.
    let (pid, me) = unsafe { (libc::getpid(), libc::gettid()) };
    // SAFETY: open of a NUL-terminated path; the descriptor is closed below.
    let dir = unsafe {
        libc::open(
            c"/proc/self/task".as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    if dir < 0 {
        return 0;
    }
    let mut sent = 0;
    let mut buf = [0u64; 512];
    loop {
        // SAFETY: getdents64 writes at most the buffer's length of records into it.
        let n = unsafe {
            libc::syscall(
                libc::SYS_getdents64,
                dir,
                buf.as_mut_ptr(),
                core::mem::size_of_val(&buf),
            )
        };
        if n <= 0 {
            break;
        }
        // SAFETY: the kernel wrote `n` bytes of records into `buf`.
        let bytes = unsafe { core::slice::from_raw_parts(buf.as_ptr().cast::<u8>(), n as usize) };
        let mut at = 0;
        // linux_dirent64: u64 ino, i64 off, u16 reclen, u8 type, name (NUL-terminated).
        while at + 19 < bytes.len() {
            let reclen = u16::from_ne_bytes([bytes[at + 16], bytes[at + 17]]) as usize;
            if reclen == 0 {
                break;
            }
            let name = &bytes[at + 19..(at + reclen).min(bytes.len())];
            let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
            if let Some(tid) = parse_tid(name) {
                // SAFETY: tgkill to a thread of our own process, with a signal whose
                // handler (`park`) is installed.
                if tid != me && unsafe { libc::syscall(libc::SYS_tgkill, pid, tid, sig) } == 0 {
                    sent += 1;
                }
            }
            at += reclen;
        }
    }
    // SAFETY: the descriptor opened above.
    unsafe { libc::close(dir) };
    sent
}

fn parse_tid(name: &[u8]) -> Option<i32> {
    if name.is_empty() || !name.iter().all(u8::is_ascii_digit) {
        return None;
    }
    name.iter().try_fold(0i32, |v, &d| {
        v.checked_mul(10)?.checked_add((d - b'0') as i32)
    })
}

/// Parks every other thread (waiting up to 100 ms); returns how many did not park.
fn stop_others() -> u32 {
    // Relaxed: the forker's own earlier Release/Acquire pairs order these.
    let target = EPOCH.load(Ordering::Relaxed).wrapping_add(1);
    // Release: pairs with the Acquire load in `park`.
    STOP_EPOCH.store(target, Ordering::Release);
    // Relaxed: set by `init` before the region was published (see its store).
    let sig = PARK_SIGNAL.load(Ordering::Relaxed);
    if sig == 0 || !park_installed(sig) {
        // No way to stop anyone (the program may have taken the signal over: its
        // handler must not be run by us). Every other thread counts as not stopped.
        return signal_others(0);
    }
    let sent = signal_others(sig);
    if sent == 0 {
        return 0;
    }
    let deadline = task::now_ns() + STOP_WAIT_NS;
    loop {
        // Acquire: pairs with the Release fetch_add in `park`: the parked threads'
        // heap writes are visible (and in the memfd) before the fork. The waiters'
        // count pairs with the Release fetch_add in `fork_enter` likewise.
        let stopped = PARKED.load(Ordering::Acquire) + FORK_WAITERS.load(Ordering::Acquire);
        if stopped >= sent {
            return 0;
        }
        if task::now_ns() >= deadline {
            // Threads that exited since they were signalled never park: count the
            // ones still there (signal 0 only checks that a thread exists).
            return (sent - stopped).min(signal_others(0).saturating_sub(stopped));
        }
        yield_now();
    }
}

/// Lets the parked threads go and waits (up to a second) until they have left the
/// handler.
fn resume_others() {
    // Relaxed: written by this thread in `stop_others`.
    let target = STOP_EPOCH.load(Ordering::Relaxed);
    // Release: pairs with the Acquire loads in `park`.
    EPOCH.store(target, Ordering::Release);
    futex_wake_all(&EPOCH);
    let deadline = task::now_ns() + RESUME_WAIT_NS;
    // Acquire: pairs with the Release fetch_sub in `park`.
    while PARKED.load(Ordering::Acquire) != 0 && task::now_ns() < deadline {
        yield_now();
    }
}

fn close_fd(slot: &AtomicI32) {
    // Relaxed: the pipe slots are only used by the forking thread (and its child).
    let fd = slot.swap(-1, Ordering::Relaxed);
    if fd >= 0 {
        // SAFETY: a pipe end `fork_prepare` made, closed once (the slot is cleared).
        unsafe { libc::close(fd) };
    }
}

/// Writes one `kasan: ...` line made of `parts` (no allocation).
fn message(parts: &[&[u8]]) {
    let mut buf = [0u8; 256];
    let mut len = 0;
    for part in parts {
        let n = part.len().min(buf.len() - len);
        buf[len..len + n].copy_from_slice(&part[..n]);
        len += n;
    }
    output::write_message::<512>(&buf[..len]);
}

/// `n` in decimal, into `buf`.
fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[at..];
        }
    }
}

impl TaggedHeap {
    /// First in the runtime's fork prepare handler, once signals are blocked and
    /// before any lock is taken: marks this thread as one that waits for the locks,
    /// so that a fork already under way on another thread (which holds them and
    /// cannot park this one: its signals are blocked) counts it as stopped.
    pub fn fork_enter(&self) {
        if !ENTERED.with(|e| e.replace(true)) {
            // Release: pairs with the Acquire load in `stop_others`.
            FORK_WAITERS.fetch_add(1, Ordering::Release);
        }
    }

    /// Before the real fork, with every runtime lock held and signals blocked on this
    /// thread: opens the pipe and parks the other threads (a single-threaded process
    /// signals nobody). Threads that do not park within 100 ms (they block the
    /// signal, or sit in an uninterruptible call) are reported in one line; returns
    /// how many they were.
    pub fn fork_prepare(&self) -> u32 {
        // This thread holds the locks now: it no longer waits (see `fork_enter`).
        if ENTERED.with(|e| e.replace(false)) {
            // Relaxed: the forker that counted this thread is done (it released the
            // locks this thread now holds).
            FORK_WAITERS.fetch_sub(1, Ordering::Relaxed);
        }
        let mut p = [-1; 2];
        // SAFETY: pipe2 writes two descriptors into `p`.
        if unsafe { libc::pipe2(p.as_mut_ptr(), libc::O_CLOEXEC) } == 0 {
            // Relaxed: see `close_fd`.
            PIPE_READ.store(p[0], Ordering::Relaxed);
            PIPE_WRITE.store(p[1], Ordering::Relaxed);
        } else {
            let mut num = [0u8; 20];
            message(&[
                b"kasan: fork: cannot create a pipe (errno ",
                decimal(errno() as u64, &mut num),
                b"); the child's heap may include the parent's writes after the fork\n",
            ]);
        }
        // Relaxed: only this thread reads it before the fork.
        IN_FORK.store(true, Ordering::Relaxed);
        let missing = stop_others();
        if missing != 0 {
            let mut num = [0u8; 20];
            message(&[
                b"kasan: fork: ",
                decimal(missing as u64, &mut num),
                b" threads did not stop; the child's heap may include their writes made during the fork\n",
            ]);
        }
        missing
    }

    /// In the parent after the fork (also when it failed): waits until the child has
    /// its own heap (or has died), then resumes the parked threads.
    pub fn fork_parent(&self) {
        // Relaxed: see `IN_FORK`.
        if !IN_FORK.swap(false, Ordering::Relaxed) {
            return;
        }
        // The parent's copy of the write end first, so a dead child (or none) is EOF.
        close_fd(&PIPE_WRITE);
        // Relaxed: see `close_fd`.
        let fd = PIPE_READ.load(Ordering::Relaxed);
        if fd >= 0 {
            let mut byte = 0u8;
            // SAFETY: read of one byte into a live local from our pipe.
            while unsafe { libc::read(fd, (&raw mut byte).cast(), 1) } < 0 && errno() == libc::EINTR
            {
            }
        }
        close_fd(&PIPE_READ);
        resume_others();
    }

    /// In the child after the fork, before any program code: moves the heap to a
    /// private copy, tells the parent, forgets the parent's parked threads. Exits
    /// with status 111 after one `kasan:` line if the copy cannot be made.
    pub fn fork_child(&self) {
        // Relaxed: see `IN_FORK`.
        if !IN_FORK.swap(false, Ordering::Relaxed) {
            return;
        }
        close_fd(&PIPE_READ);
        if let Err((what, e)) = self.make_private() {
            let mut num = [0u8; 20];
            message(&[
                b"kasan: fork: cannot copy the heap for the child (",
                what,
                b", errno ",
                decimal(e as u64, &mut num),
                b"); the child exits\n",
            ]);
            // SAFETY: _exit has no preconditions; the child must not run sharing the
            // parent's heap.
            unsafe { libc::_exit(CHILD_FAILED) };
        }
        // Relaxed: see `close_fd`.
        let fd = PIPE_WRITE.load(Ordering::Relaxed);
        if fd >= 0 {
            // SAFETY: write of one byte from a live local to our pipe.
            unsafe { libc::write(fd, b"k".as_ptr().cast(), 1) };
        }
        close_fd(&PIPE_WRITE);
        // The parent's threads do not exist here: nothing is parked.
        // Relaxed: this process has one thread now.
        PARKED.store(0, Ordering::Relaxed);
        FORK_WAITERS.store(0, Ordering::Relaxed);
        ENTERED.with(|e| e.set(false));
        EPOCH.store(STOP_EPOCH.load(Ordering::Relaxed), Ordering::Relaxed);
    }

    /// The child's rebuild: a new memfd with the old one's data, mapped over every
    /// alias and moved to the old descriptor number.
    fn make_private(&self) -> Result<(), (&'static [u8], i32)> {
        let size = self.arena_size();
        let Some(old) = memfd(self) else {
            return Err((b"the heap's descriptor was closed", libc::EBADF));
        };
        // SAFETY: memfd_create with a NUL-terminated name makes a new descriptor.
        let nfd = unsafe { libc::memfd_create(c"kasan-heap".as_ptr(), libc::MFD_CLOEXEC) };
        if nfd < 0 {
            return Err((b"memfd_create", errno()));
        }
        let fail = |what: &'static [u8]| {
            let e = errno();
            // SAFETY: the new memfd, not mapped anywhere yet.
            unsafe { libc::close(nfd) };
            Err((what, e))
        };
        // SAFETY: ftruncate of the memfd just made.
        if unsafe { libc::ftruncate(nfd, size as libc::off_t) } != 0 {
            return fail(b"ftruncate");
        }
        if let Err(what) = copy_extents(old, nfd, self.base) {
            return fail(what);
        }
        if map_aliases(self.base, self.shift, nfd).is_err() {
            // Some aliases may show the new memfd already: the child cannot go on.
            return fail(b"mmap");
        }
        // SAFETY: dup3 of our new memfd onto our old one's number (which closes the
        // old descriptor; its pages stay the parent's).
        if unsafe { libc::dup3(nfd, old, libc::O_CLOEXEC) } < 0 {
            return fail(b"dup3");
        }
        // SAFETY: the new memfd's first descriptor; the dup keeps it open.
        unsafe { libc::close(nfd) };
        set_memfd(old);
        Ok(())
    }
}

/// Copies every data extent of `from` into `to` (same offsets); holes (pages never
/// written, or punched) cost nothing. `copy_file_range` first; where the kernel
/// refuses it, through a temporary mapping of `to` from alias 0 at `base`.
fn copy_extents(from: i32, to: i32, base: usize) -> Result<(), &'static [u8]> {
    let mut off: libc::off_t = 0;
    loop {
        // SAFETY: lseek on our descriptor.
        let data = unsafe { libc::lseek(from, off, libc::SEEK_DATA) };
        if data < 0 {
            return if errno() == libc::ENXIO {
                Ok(())
            } else {
                Err(b"lseek")
            };
        }
        // SAFETY: as above.
        let hole = unsafe { libc::lseek(from, data, libc::SEEK_HOLE) };
        if hole < 0 {
            return Err(b"lseek");
        }
        let (mut inp, mut outp) = (data, data);
        let mut left = (hole - data) as usize;
        while left > 0 {
            // SAFETY: copy_file_range between our two descriptors with live offsets.
            let n = unsafe {
                libc::syscall(
                    libc::SYS_copy_file_range,
                    from,
                    &raw mut inp,
                    to,
                    &raw mut outp,
                    left,
                    0u32,
                )
            };
            if n > 0 {
                left -= n as usize;
                continue;
            }
            if n < 0
                && matches!(
                    errno(),
                    libc::EXDEV | libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP
                )
            {
                copy_mapped(to, base, outp as usize, left)?;
                break;
            }
            return Err(b"copy_file_range");
        }
        off = hole;
    }
}

/// The fallback copy of `[off, off + len)`: `to` mapped for the purpose, the data
/// read through alias 0.
fn copy_mapped(to: i32, base: usize, off: usize, len: usize) -> Result<(), &'static [u8]> {
    let start = off & !(PAGE - 1);
    let len = off + len - start;
    // SAFETY: a new shared mapping of our new memfd at an address the kernel picks.
    let dst = unsafe {
        crate::sys::mmap(
            core::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
            to,
            start as libc::off_t,
        )
    };
    if dst == libc::MAP_FAILED {
        return Err(b"mmap");
    }
    // SAFETY: the source is alias 0 of the region at this offset (mapped, the old
    // memfd's data extent); the destination the mapping just made, of `len` bytes.
    unsafe {
        core::ptr::copy_nonoverlapping((base + start) as *const u8, dst.cast::<u8>(), len);
        crate::sys::munmap(dst, len);
    }
    Ok(())
}
