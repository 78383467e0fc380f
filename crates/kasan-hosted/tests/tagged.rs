//! The tagged heap region of the sw-tags mode, in a real process: aliases, tag bits,
//! discard, resident figures, the page source, and fork isolation (the tests of
//! `docs/design/sw-tags/fork_alias.c`, ported). Every test holds `LOCK` (one region
//! per process, and a fork parks every other thread); each uses its own pages.
#![allow(unsafe_code)]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use kasan_hosted::tagged::{self, TaggedHeap, TaggedPages, CHILD_FAILED, KERNEL_TAG};
use kasan_slab::Host;

const PAGE: usize = 4096;

static LOCK: Mutex<()> = Mutex::new(());

fn heap() -> (TaggedHeap, MutexGuard<'static, ()>) {
    static HEAP: OnceLock<TaggedHeap> = OnceLock::new();
    let guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let heap = *HEAP.get_or_init(|| tagged::init().expect("the tagged region maps"));
    (heap, guard)
}

/// The word at `off` of the arena seen through the alias of `tag`.
fn word(h: &TaggedHeap, off: usize, tag: u8) -> *mut u64 {
    h.with_tag(h.base() + off, tag) as *mut u64
}

fn read(h: &TaggedHeap, off: usize, tag: u8) -> u64 {
    // SAFETY: every alias maps the whole arena read/write; `off` is inside it.
    unsafe { word(h, off, tag).read_volatile() }
}

fn write(h: &TaggedHeap, off: usize, tag: u8, v: u64) {
    // SAFETY: as in `read`.
    unsafe { word(h, off, tag).write_volatile(v) }
}

/// The fork protocol as the runtime runs it around `fork`; also returns how many
/// threads did not stop.
fn fork_counted(h: &TaggedHeap) -> (i32, u32) {
    h.fork_enter();
    let missing = h.fork_prepare();
    // SAFETY: fork; the child only runs code that `_exit`s.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        h.fork_child();
    } else {
        h.fork_parent();
    }
    (pid, missing)
}

/// [`fork_counted`] where every other thread must stop.
fn fork_isolated(h: &TaggedHeap) -> i32 {
    let (pid, missing) = fork_counted(h);
    if pid != 0 {
        assert_eq!(missing, 0, "threads that did not stop");
    }
    pid
}

fn wait(pid: i32) -> i32 {
    let mut status = 0;
    // SAFETY: waits for our own child.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(libc::WIFEXITED(status), "child status {status:#x}");
    libc::WEXITSTATUS(status)
}

fn exit(code: i32) -> ! {
    // SAFETY: _exit has no preconditions (the child must not run the harness).
    unsafe { libc::_exit(code) }
}

struct Pipe(i32, i32);

impl Pipe {
    fn new() -> Pipe {
        let mut p = [0; 2];
        // SAFETY: pipe writes two descriptors.
        assert_eq!(unsafe { libc::pipe(p.as_mut_ptr()) }, 0);
        Pipe(p[0], p[1])
    }
    fn send(&self) {
        // SAFETY: one byte from a live local.
        assert_eq!(unsafe { libc::write(self.1, b"x".as_ptr().cast(), 1) }, 1);
    }
    fn recv(&self) {
        let mut b = 0u8;
        // SAFETY: one byte into a live local.
        assert_eq!(unsafe { libc::read(self.0, (&raw mut b).cast(), 1) }, 1);
    }
}

impl Drop for Pipe {
    fn drop(&mut self) {
        // SAFETY: our descriptors.
        unsafe {
            libc::close(self.0);
            libc::close(self.1);
        }
    }
}

#[test]
fn region_layout_and_accessors() {
    let (h, _g) = heap();
    assert_eq!(h.shift(), 40);
    assert_eq!(h.kernel_tag(), 0xF);
    assert_eq!(
        h.base() % (16 << 40),
        0,
        "region aligned to its 16 TiB size"
    );
    assert_eq!(h.arena(), (h.base(), 1 << 40));
    assert_eq!(h.region_len(), 16 << 40);
    assert_eq!(h.shadow_len(), 1 << 36);
    assert!(h.fd() >= 3);
    assert_eq!(tagged::get(), Some(h));
    assert_eq!(
        tagged::init().unwrap(),
        h,
        "a second init returns the same region"
    );
    // The memfd is close-on-exec.
    // SAFETY: F_GETFD on our descriptor.
    let flags = unsafe { libc::fcntl(h.fd(), libc::F_GETFD) };
    assert_eq!(flags & libc::FD_CLOEXEC, 1);
}

#[test]
fn aliases_see_the_same_bytes() {
    let (h, _g) = heap();
    let off = 16 * PAGE;
    write(&h, off, KERNEL_TAG, 0x1111);
    for t in 0..16 {
        assert_eq!(read(&h, off, t), 0x1111, "tag {t:#x}");
    }
    write(&h, off + 8, 3, 0x3333);
    for t in 0..16 {
        assert_eq!(read(&h, off + 8, t), 0x3333, "tag {t:#x}");
    }
    // Clean twin: the neighbouring word is untouched.
    assert_eq!(read(&h, off + 16, 7), 0);
}

#[test]
fn tag_bits_round_trip() {
    let (h, _g) = heap();
    for off in [0usize, 16, 4095, 1 << 20, (1 << 40) - 1] {
        let p = h.base() + off;
        assert_eq!(h.tag(p), KERNEL_TAG);
        assert_eq!(h.untag(p), p);
        for t in 0..16u8 {
            let tagged = h.with_tag(p, t);
            assert_eq!(tagged, p + (((t ^ 0xF) as usize) << 40));
            assert_eq!(h.tag(tagged), t);
            assert_eq!(h.untag(tagged), p);
            assert!(h.contains(tagged));
            // Retagging replaces the tag.
            assert_eq!(h.with_tag(tagged, 0xF), p);
            assert_eq!(h.with_tag(tagged, 0x2), h.with_tag(p, 0x2));
            // The shadow byte is the same for every alias, and offset and base agree.
            assert_eq!(h.shadow_addr(tagged), Some(h.shadow_base() + (off >> 4)));
            assert_eq!(
                h.shadow_offset().wrapping_add(h.untag(tagged) >> 4),
                h.shadow_base() + (off >> 4)
            );
        }
    }
    // Addresses outside the region carry the match-all tag and no tag bits.
    let end = h.base() + h.region_len();
    for p in [
        h.base() - 1,
        end,
        end + (3 << 40),
        0x1000,
        &h as *const _ as usize,
    ] {
        assert!(!h.contains(p), "{p:#x}");
        assert_eq!(h.tag(p), KERNEL_TAG);
        assert_eq!(h.untag(p), p);
        assert_eq!(h.with_tag(p, 3), p);
        assert_eq!(h.shadow_addr(p), None);
    }
    assert!(h.contains(end - 1));
    assert_eq!(h.tag(end - 1), 0);
}

#[test]
fn shadow_is_mapped_zero_and_writable() {
    let (h, _g) = heap();
    let off = 32 * PAGE;
    let s = h.shadow_addr(h.base() + off).unwrap() as *mut u8;
    // SAFETY: the shadow is a private read/write mapping of shadow_len bytes; `s` is
    // inside it, as is its last byte.
    unsafe {
        assert_eq!(s.read_volatile(), 0);
        s.write_volatile(0xE);
        assert_eq!(
            (h.shadow_addr(h.with_tag(h.base() + off + 15, 9)).unwrap() as *const u8)
                .read_volatile(),
            0xE
        );
        s.write_volatile(0);
        let last = (h.shadow_base() + h.shadow_len() - 1) as *mut u8;
        last.write_volatile(1);
        assert_eq!(last.read_volatile(), 1);
        last.write_volatile(0);
    }
    // The shadow is not in the region (it is private memory, not aliased).
    assert!(!h.contains(h.shadow_base()));
}

#[test]
fn discard_zeroes_every_alias_and_frees_the_pages() {
    let (h, _g) = heap();
    let off = 1 << 30;
    let pages = 64;
    let before = h.resident_bytes();
    for i in 0..pages {
        write(&h, off + i * PAGE, (i % 14) as u8, 0xD15C_0000 + i as u64);
    }
    assert_eq!(h.resident_bytes(), before + pages * PAGE);
    // Discard the middle half through the page source, with a tagged address.
    let host = TaggedPages;
    host.discard(h.with_tag(h.base() + off + 16 * PAGE, 5), 32 * PAGE);
    assert_eq!(h.resident_bytes(), before + 32 * PAGE);
    for i in 0..pages {
        let want = if (16..48).contains(&i) {
            0
        } else {
            0xD15C_0000 + i as u64
        };
        for t in [0u8, 6, 13, 15] {
            assert_eq!(read(&h, off + i * PAGE, t), want, "page {i} tag {t}");
        }
    }
    h.discard(h.base() + off, pages * PAGE);
    assert_eq!(h.resident_bytes(), before);
    assert_eq!(read(&h, off, 0), 0);
    // Out-of-arena ranges are ignored (and do not punch the arena's pages).
    write(&h, 0, 0xF, 7);
    h.discard(h.base() - PAGE, PAGE);
    h.discard(0x10000, PAGE);
    assert_eq!(read(&h, 0, 3), 7);
    write(&h, 0, 0xF, 0);
}

#[test]
fn page_source_protect_keeps_pages_and_map_is_private() {
    let (h, _g) = heap();
    let host = TaggedPages;
    let off = 2 << 30;
    write(&h, off, 4, 42);
    host.protect(h.base() + off, PAGE, false);
    assert_eq!(read(&h, off, 4), 42, "guard pages stay mapped in tag mode");
    write(&h, off, 4, 0);
    h.discard(h.base() + off, PAGE);
    let seg = host.map(8 * PAGE).expect("table segment");
    assert!(!h.contains(seg));
    assert_eq!(seg % PAGE, 0);
    // SAFETY: a fresh mapping of 8 pages.
    unsafe {
        assert_eq!(*(seg as *const u64), 0);
        *(seg as *mut u64) = 1;
        libc::munmap(seg as *mut libc::c_void, 8 * PAGE);
    }
    assert!(host.now_ns() > 0);
}

#[test]
fn resident_bytes_count_pages_once_however_many_aliases() {
    let (h, _g) = heap();
    let off = 3 << 30;
    let pages = 256; // 1 MiB
    let (res0, pss0) = (
        h.resident_bytes(),
        h.pss_bytes().expect("smaps has the region"),
    );
    for i in 0..pages {
        for t in 0..16u8 {
            write(&h, off + i * PAGE + 8 * t as usize, t, 1);
        }
    }
    assert_eq!(h.resident_bytes() - res0, pages * PAGE);
    let pss = h.pss_bytes().unwrap() - pss0;
    let want = pages * PAGE;
    assert!(
        pss.abs_diff(want) <= 64 << 10,
        "Pss grew by {pss} bytes for {want} bytes touched in 16 aliases"
    );
    h.discard(h.base() + off, pages * PAGE);
    assert_eq!(h.resident_bytes(), res0);
    assert!(h.shadow_resident_bytes().is_some());
}

/// Control (the bug the protocol fixes): a plain fork shares the heap.
#[test]
fn plain_fork_shares_the_heap() {
    let (h, _g) = heap();
    let off = 4 << 30;
    write(&h, off, 0xF, 1);
    // SAFETY: fork; the child writes and exits.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        write(&h, off, 2, 0xBAD);
        exit(0);
    }
    assert_eq!(wait(pid), 0);
    assert_eq!(read(&h, off, 0xF), 0xBAD);
    h.discard(h.base() + off, PAGE);
}

#[test]
fn fork_keeps_parent_and_child_writes_apart() {
    let (h, _g) = heap();
    let off = 5 << 30;
    write(&h, off, 0xF, 0x1111);
    write(&h, off + 1024 * PAGE, 0x7, 0x2222); // a second extent, far away
    let (to_parent, to_child) = (Pipe::new(), Pipe::new());
    let pid = fork_isolated(&h);
    assert!(pid >= 0);
    if pid == 0 {
        let mut bad = 0;
        for t in 0..16 {
            bad |= (read(&h, off, t) != 0x1111) as i32;
            bad |= ((read(&h, off + 1024 * PAGE, t) != 0x2222) as i32) << 1;
        }
        write(&h, off, 2, 0xC41D);
        to_parent.send();
        to_child.recv(); // the parent has written 0xAAAA by now
        for t in 0..16 {
            bad |= ((read(&h, off, t) != 0xC41D) as i32) << 2;
        }
        exit(bad);
    }
    to_parent.recv();
    for t in 0..16 {
        assert_eq!(
            read(&h, off, t),
            0x1111,
            "the child's write leaked (tag {t})"
        );
    }
    write(&h, off, 5, 0xAAAA);
    to_child.send();
    assert_eq!(
        wait(pid),
        0,
        "bit 0/1: pre-fork data missing, bit 2: parent's write seen"
    );
    for t in 0..16 {
        assert_eq!(read(&h, off, t), 0xAAAA);
    }
    h.discard(h.base() + off, 1025 * PAGE);
}

/// A writer thread keeps a pair of heap words 16 MiB apart equal (`A` first, then
/// `B`); the child's copy must be a snapshot of one moment, so it sees `A - B` of 0
/// or 1: the writer was parked during the copy. Without the stop the copy reads
/// `A`'s page milliseconds before `B`'s (16 MiB of touched pages lie between),
/// while the writer runs on.
#[test]
fn fork_from_a_multithreaded_process() {
    let (h, _g) = heap();
    let off = 6 << 30;
    let gap = 16 << 20;
    let (a, b) = (word(&h, off, 1) as usize, word(&h, off + gap, 12) as usize);
    for p in (0..=gap).step_by(PAGE) {
        write(&h, off + p, 1, 0);
    }
    static STOP: AtomicBool = AtomicBool::new(false);
    static STARTED: AtomicU64 = AtomicU64::new(0);
    STOP.store(false, Ordering::Relaxed);
    STARTED.store(0, Ordering::Relaxed);
    // One writer of the pair, and two more threads that only spin (more to park).
    let threads: Vec<_> = (0..3)
        .map(|i| {
            std::thread::spawn(move || {
                STARTED.fetch_add(1, Ordering::Relaxed);
                let mut n = 0u64;
                while !STOP.load(Ordering::Relaxed) {
                    if i == 0 {
                        n += 1;
                        // SAFETY: both words are in the arena (aliases of tags 1
                        // and 12); only this thread writes them.
                        unsafe {
                            (a as *mut u64).write_volatile(n);
                            (b as *mut u64).write_volatile(n);
                        }
                    } else {
                        std::hint::spin_loop();
                    }
                }
            })
        })
        .collect();
    while STARTED.load(Ordering::Relaxed) < 3 || read(&h, off + gap, 0xF) < 1000 {
        std::thread::yield_now();
    }
    // Three rounds: a missing stop shows in most single rounds, here in nearly all.
    for round in 0..3 {
        let (to_parent, to_child) = (Pipe::new(), Pipe::new());
        let pid = fork_isolated(&h);
        assert!(pid >= 0);
        if pid == 0 {
            let (sa, sb) = (read(&h, off, 0xF), read(&h, off + gap, 0xF));
            let mut bad = (sb < 1000) as i32;
            bad |= ((sa.wrapping_sub(sb) > 1) as i32) << 1;
            to_parent.send();
            to_child.recv(); // the parent's writer has run on for a while
            bad |= ((read(&h, off, 9) != sa || read(&h, off + gap, 3) != sb) as i32) << 2;
            exit(bad);
        }
        to_parent.recv();
        // The writer was resumed: the pair keeps moving in the parent.
        let before = read(&h, off + gap, 0xF);
        let until = Instant::now() + Duration::from_secs(5);
        while read(&h, off + gap, 0xF) == before && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_ne!(
            read(&h, off + gap, 0xF),
            before,
            "the writer was not resumed"
        );
        std::thread::sleep(Duration::from_millis(20));
        to_child.send();
        assert_eq!(
            wait(pid),
            0,
            "round {round}: bit 0: pre-fork count missing, bit 1: torn copy, bit 2: parent's writes seen"
        );
    }
    STOP.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    h.discard(h.base() + off, gap + PAGE);
}

#[test]
fn repeated_and_nested_forks() {
    let (h, _g) = heap();
    let off = 7 << 30;
    write(&h, off, 0xF, 0xAAAA);
    for i in 0..20u64 {
        let pid = fork_isolated(&h);
        assert!(pid >= 0);
        if pid == 0 {
            let ok = read(&h, off, 4) == 0xAAAA + i;
            write(&h, off, 4, 0xDEAD);
            exit(if ok { 0 } else { 1 });
        }
        assert_eq!(wait(pid), 0, "fork {i}");
        assert_eq!(
            read(&h, off, 0xF),
            0xAAAA + i,
            "fork {i}: the child's write leaked"
        );
        write(&h, off, 0xF, 0xAAAA + i + 1);
    }
    write(&h, off, 0xF, 0xAAAA);
    // Nested: a child forks again; each level sees only its own writes.
    let pid = fork_isolated(&h);
    if pid == 0 {
        write(&h, off, 0xF, 0x2222);
        let g = fork_isolated(&h);
        if g == 0 {
            let ok = read(&h, off, 8) == 0x2222;
            write(&h, off, 8, 0x3333);
            exit(if ok { 0 } else { 1 });
        }
        let mut status = 0;
        // SAFETY: waits for our own child.
        unsafe { libc::waitpid(g, &mut status, 0) };
        let grandchild_ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
        exit(match (grandchild_ok, read(&h, off, 0xF) == 0x2222) {
            (true, true) => 0,
            (false, _) => 1,
            (true, false) => 2,
        });
    }
    assert_eq!(
        wait(pid),
        0,
        "1: grandchild saw wrong data, 2: its write leaked"
    );
    assert_eq!(
        read(&h, off, 0xF),
        0xAAAA,
        "the child's write leaked (nested)"
    );
    h.discard(h.base() + off, PAGE);
}

#[test]
fn child_that_cannot_copy_exits_before_running() {
    let (h, _g) = heap();
    let off = 8 << 30;
    write(&h, off, 0xF, 0x5151);
    h.fork_enter();
    assert_eq!(h.fork_prepare(), 0);
    // SAFETY: fork; the child only runs code that `_exit`s.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // No descriptor can be made: memfd_create fails in `fork_child`.
        let none = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: setrlimit from a live struct.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &none) };
        h.fork_child();
        write(&h, off, 0xF, 0xBAD); // must never run
        exit(0);
    }
    h.fork_parent();
    assert_eq!(wait(pid), CHILD_FAILED);
    assert_eq!(read(&h, off, 0xF), 0x5151);
    h.discard(h.base() + off, PAGE);
}

#[test]
fn fork_parent_without_a_child_returns() {
    let (h, _g) = heap();
    // A failed fork runs the parent side with no child: EOF on the pipe at once.
    let t = Instant::now();
    assert_eq!(h.fork_prepare(), 0);
    h.fork_parent();
    assert!(t.elapsed() < Duration::from_secs(2));
    // Out-of-protocol calls do nothing.
    h.fork_parent();
    h.fork_child();
}

#[test]
fn fork_copies_only_the_used_extents() {
    let (h, _g) = heap();
    // Data near the end of the 1 TiB arena: a copy of the whole file would not end.
    let off = (1 << 40) - 2 * PAGE;
    write(&h, off, 0xF, 0xE0D);
    let t = Instant::now();
    let pid = fork_isolated(&h);
    if pid == 0 {
        exit(if read(&h, off, 11) == 0xE0D { 0 } else { 1 });
    }
    assert_eq!(wait(pid), 0);
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    h.discard(h.base() + off, PAGE);
}

/// Set while `fork_through_glibc_atfork_handlers` runs: the atfork handlers below
/// run the protocol only then (other tests fork plainly or call it by hand).
static VIA_ATFORK: AtomicBool = AtomicBool::new(false);

extern "C" fn atfork_prepare() {
    if VIA_ATFORK.load(Ordering::Relaxed) {
        tagged::get().unwrap().fork_prepare();
    }
}
extern "C" fn atfork_parent() {
    if VIA_ATFORK.load(Ordering::Relaxed) {
        tagged::get().unwrap().fork_parent();
    }
}
extern "C" fn atfork_child() {
    if VIA_ATFORK.load(Ordering::Relaxed) {
        tagged::get().unwrap().fork_child();
    }
}

/// The runtime's path: the protocol inside glibc's `fork`, from its atfork handlers,
/// with a second thread running.
#[test]
fn fork_through_glibc_atfork_handlers() {
    let (h, _g) = heap();
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        // SAFETY: registers three handlers that stay valid for the process's life.
        let r = unsafe {
            libc::pthread_atfork(
                Some(atfork_prepare),
                Some(atfork_parent),
                Some(atfork_child),
            )
        };
        assert_eq!(r, 0);
    });
    let off = 9 << 30;
    write(&h, off, 0xF, 0x0A7F);
    let (stop, started) = (
        std::sync::Arc::new(AtomicBool::new(false)),
        std::sync::Arc::new(AtomicBool::new(false)),
    );
    let (s, st) = (stop.clone(), started.clone());
    let spinner = std::thread::spawn(move || {
        st.store(true, Ordering::Relaxed);
        while !s.load(Ordering::Relaxed) {
            std::hint::spin_loop();
        }
    });
    while !started.load(Ordering::Relaxed) {
        std::thread::yield_now();
    }
    VIA_ATFORK.store(true, Ordering::Relaxed);
    let done = Pipe::new();
    // SAFETY: fork; the child only runs code that `_exit`s.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        let ok = read(&h, off, 6) == 0x0A7F;
        write(&h, off, 6, 0xC0C0);
        done.send();
        exit(if ok { 0 } else { 1 });
    }
    VIA_ATFORK.store(false, Ordering::Relaxed);
    done.recv();
    assert_eq!(read(&h, off, 0xF), 0x0A7F, "the child's write leaked");
    assert_eq!(wait(pid), 0);
    stop.store(true, Ordering::Relaxed);
    spinner.join().unwrap();
    h.discard(h.base() + off, PAGE);
}

/// A thread that blocks the park signal cannot be stopped: the prepare gives up after
/// its 100 ms wait (and says so in one line); the fork still isolates the heaps.
#[test]
fn fork_with_a_thread_that_blocks_the_park_signal() {
    let (h, _g) = heap();
    let off = 10 << 30;
    write(&h, off, 0xF, 0xB10C);
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let ready = std::sync::Arc::new(AtomicBool::new(false));
    let (s, r) = (stop.clone(), ready.clone());
    let blocker = std::thread::spawn(move || {
        // SAFETY: blocks one signal on this thread; the set is built locally.
        unsafe {
            let mut set: libc::sigset_t = core::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, tagged::park_signal());
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, core::ptr::null_mut());
        }
        r.store(true, Ordering::Relaxed);
        while !s.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(1));
        }
    });
    while !ready.load(Ordering::Relaxed) {
        std::thread::yield_now();
    }
    let t = Instant::now();
    let (pid, missing) = fork_counted(&h);
    if pid == 0 {
        let ok = read(&h, off, 2) == 0xB10C;
        write(&h, off, 2, 0xBAD);
        exit(if ok { 0 } else { 1 });
    }
    let waited = t.elapsed();
    assert_eq!(missing, 1);
    assert_eq!(wait(pid), 0);
    assert_eq!(read(&h, off, 0xF), 0xB10C);
    assert!(waited >= Duration::from_millis(100), "{waited:?}");
    stop.store(true, Ordering::Relaxed);
    // The blocked signal is delivered when the thread exits or unblocks; it finds
    // the stop over and returns at once.
    blocker.join().unwrap();
    h.discard(h.base() + off, PAGE);
}

/// Two threads fork at the same time, as under the runtime: signals blocked, then
/// `fork_enter`, then the runtime's locks (here one mutex), then the protocol. The
/// one that waits for the lock cannot park (its signals are blocked) but counts as
/// stopped, so neither fork waits out the 100 ms or reports missing threads.
#[test]
fn concurrent_forks_from_two_threads() {
    let (h, _g) = heap();
    static RUNTIME_LOCKS: Mutex<()> = Mutex::new(());
    let forker = move |k: usize| {
        let off = (11 << 30) + k * PAGE;
        // SAFETY: blocks every signal on this thread, as the runtime's prepare does.
        unsafe {
            let mut all: libc::sigset_t = core::mem::zeroed();
            libc::sigfillset(&mut all);
            libc::pthread_sigmask(libc::SIG_BLOCK, &all, core::ptr::null_mut());
        }
        let mut missing = 0;
        for i in 0..10u64 {
            write(&h, off, 0xF, i);
            h.fork_enter();
            let locks = RUNTIME_LOCKS.lock().unwrap();
            missing += h.fork_prepare();
            // SAFETY: fork; the child only runs code that `_exit`s.
            let pid = unsafe { libc::fork() };
            if pid == 0 {
                h.fork_child();
                let ok = read(&h, off, 3) == i;
                write(&h, off, 3, 0xBAD);
                exit(if ok { 0 } else { 1 });
            }
            h.fork_parent();
            drop(locks);
            assert_eq!(wait(pid), 0);
            assert_eq!(
                read(&h, off, 0xF),
                i,
                "thread {k} fork {i}: the child's write leaked"
            );
        }
        missing
    };
    let t = Instant::now();
    let threads: Vec<_> = (0..2)
        .map(|k| std::thread::spawn(move || forker(k)))
        .collect();
    let missing: Vec<u32> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(missing, [0, 0], "threads reported as not stopped");
    // 20 forks, none of which waited 100 ms for a thread that could not park. (Under
    // the parallel test harness another test's thread can be parked holding glibc's
    // malloc lock, which the fork then needs: the park gives up after 2 s, and the
    // time says nothing about this test's threads.)
    if !kasan_hosted::tagged::park_timed_out() {
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    }
    h.discard(h.base() + (11 << 30), 2 * PAGE);
}

extern "C" fn program_handler(_sig: libc::c_int) {
    PROGRAM_HANDLER_RAN.store(true, Ordering::Relaxed);
}
static PROGRAM_HANDLER_RAN: AtomicBool = AtomicBool::new(false);

/// A program that takes the park signal over: its handler is never run by a fork;
/// the other threads count as not stopped, and the heaps still part.
#[test]
fn fork_when_the_program_replaced_the_park_handler() {
    let (h, _g) = heap();
    let sig = tagged::park_signal();
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    let other = std::thread::spawn(move || {
        while !s.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(1));
        }
    });
    // SAFETY: installs a handler and later puts the previous action back.
    let old = unsafe {
        let mut action: libc::sigaction = core::mem::zeroed();
        let mut old: libc::sigaction = core::mem::zeroed();
        action.sa_sigaction = program_handler as *const () as usize;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(sig, &action, &mut old);
        old
    };
    let off = 12 << 30;
    write(&h, off, 0xF, 0x9999);
    let (pid, missing) = fork_counted(&h);
    if pid == 0 {
        let ok = read(&h, off, 1) == 0x9999;
        write(&h, off, 1, 0xBAD);
        exit(if ok { 0 } else { 1 });
    }
    // SAFETY: restores the action saved above.
    unsafe { libc::sigaction(sig, &old, core::ptr::null_mut()) };
    assert_eq!(wait(pid), 0);
    assert_eq!(read(&h, off, 0xF), 0x9999);
    assert!(
        missing >= 1,
        "the spinning thread was not stopped: {missing}"
    );
    assert!(!PROGRAM_HANDLER_RAN.load(Ordering::Relaxed));
    stop.store(true, Ordering::Relaxed);
    other.join().unwrap();
    // With our handler back, the next fork stops everyone again.
    let pid = fork_isolated(&h);
    if pid == 0 {
        exit(0);
    }
    assert_eq!(wait(pid), 0);
    h.discard(h.base() + off, PAGE);
}

/// A program that closes the heap's descriptor and reuses its number for a file of
/// its own: discard, the resident figure and fork never touch that file; the heap's
/// memfd is found again through `/proc/self/map_files` where that is permitted, and
/// otherwise a fork child exits (status 111) rather than share the heap.
#[test]
fn a_closed_heap_descriptor_is_never_mistaken_for_the_programs_file() {
    let (h, _g) = heap();
    let old = h.fd();
    assert!(old >= 0);
    // SAFETY: closes the heap's descriptor (the aliases keep the memfd alive) and
    // puts a file of the "program's" at that number.
    let user = unsafe {
        libc::close(old);
        let f = libc::memfd_create(c"user-file".as_ptr(), 0);
        assert!(f >= 0);
        assert_eq!(libc::dup2(f, old), old);
        libc::close(f);
        assert_eq!(libc::pwrite(old, b"precious".as_ptr().cast(), 8, 0), 8);
        old
    };
    let off = 13 << 30;
    write(&h, off, 0xF, 0x4444);
    h.discard(h.base() + off, PAGE);
    assert_eq!(read(&h, off, 7), 0, "discard works without the descriptor");
    write(&h, off, 0xF, 0x4444);
    let reopened = h.fd();
    assert_ne!(reopened, user);
    let pid = fork_isolated(&h);
    if pid == 0 {
        let ok = read(&h, off, 5) == 0x4444;
        write(&h, off, 5, 0xBAD);
        exit(if ok { 0 } else { 1 });
    }
    let status = wait(pid);
    if reopened >= 0 {
        assert_eq!(status, 0);
        assert!(h.resident_bytes() >= PAGE);
    } else {
        assert_eq!(status, CHILD_FAILED);
        assert_eq!(h.resident_bytes(), 0);
    }
    assert_eq!(read(&h, off, 0xF), 0x4444, "the child's write leaked");
    let mut buf = [0u8; 8];
    // SAFETY: reads 8 bytes into a live buffer; closes the program's file.
    unsafe {
        assert_eq!(libc::pread(user, buf.as_mut_ptr().cast(), 8, 0), 8);
        libc::close(user);
    }
    assert_eq!(&buf, b"precious");
    h.discard(h.base() + off, PAGE);
}
