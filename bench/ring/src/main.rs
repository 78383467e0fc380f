//! ring-bench: the stack ring's two designs side by side in one run.
//!
//! ```sh
//! cargo run --release -p ring-bench            # ~30 s
//! cargo run --release -p ring-bench -- --quick # ~3 s, for checking it runs
//! ```
//!
//! 1. CPU ns per record (thread CPU time, so time spent descheduled on this shared
//!    machine does not count; cache-line contention does) and records per second of
//!    wall time, with 1, 2 and 4 threads (thread `t` pinned to CPU `t % CPUs`), global
//!    against per-CPU, `kasan.stack_ring_size=32768`: (a) the
//!    ring alone (a persistent handle, no eviction); (b) what a tag-mode free or alloc
//!    pays in all: `save(GET)` of an already stored stack, the record, and the put of
//!    the overwritten entry's handle. Per-CPU rows include `sched_getcpu`; the clock is
//!    `lfence; rdtsc` in both designs.
//! 2. µs per `find` in a full ring of 32768 entries (every scan walks the whole ring).
//! 3. Depot memory (`DepotStats::bytes`) after a long run over many distinct stacks
//!    (recursion depth varied), with eviction (GET handles, put on overwrite: Linux
//!    6.8+) and without (persistent handles: Linux before 6.8).
//!
//! A benchmark, not a test: it prints figures and never fails on one.

use std::hint::black_box;
use std::time::Instant;

use kasan_core::mode::Clock;
use kasan_core::report::Track;
use kasan_core::stack::{Handle, PoolSource, SaveFlags, StackDepot};
use kasan_core::stack_ring::{RingDesign, StackRing};

/// Memory from the global allocator, zeroed, never freed (as the runtime's `mmap`).
struct Pools;

impl PoolSource for Pools {
    fn map_pool(&self, bytes: usize) -> Option<*mut u8> {
        let layout = std::alloc::Layout::from_size_align(bytes, 4096).ok()?;
        // SAFETY: the layout has a non-zero size (the depot and the ring never ask
        // for 0 bytes).
        let p = unsafe { std::alloc::alloc_zeroed(layout) };
        (!p.is_null()).then_some(p)
    }
}

/// The hosted runtime's clock: `lfence; rdtsc`.
struct Tsc;

impl Clock for Tsc {
    #[cfg(target_arch = "x86_64")]
    fn now(&self) -> u64 {
        // SAFETY: lfence and rdtsc exist on every x86-64 CPU (SSE2 is baseline) and
        // touch no memory.
        unsafe {
            core::arch::x86_64::_mm_lfence();
            core::arch::x86_64::_rdtsc()
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    fn now(&self) -> u64 {
        use std::sync::OnceLock;
        static START: OnceLock<Instant> = OnceLock::new();
        START.get_or_init(Instant::now).elapsed().as_nanos() as u64
    }
}

/// CPU time of the calling thread, in ns (descheduled time does not count: the machine
/// is shared, and more threads than CPUs take turns).
fn thread_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec, which `ts` is.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Pins the calling thread to `cpu` (so two threads on two CPUs really contend).
fn pin(cpu: usize) {
    // SAFETY: a zeroed cpu_set_t is an empty set; CPU_SET and sched_setaffinity get a
    // valid set of the size passed.
    unsafe {
        let mut set: libc::cpu_set_t = core::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, core::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

fn cpu() -> usize {
    // SAFETY: sched_getcpu has no preconditions.
    let c = unsafe { libc::sched_getcpu() };
    c.max(0) as usize
}

const GET: SaveFlags = SaveFlags(SaveFlags::CAN_ALLOC.0 | SaveFlags::GET.0);
const RING_SIZE: usize = 32768;

/// A tagged pointer as the x86-64 aliasing carrier makes them (tag in bits 40..43).
fn tagged(obj: usize, tag: usize) -> usize {
    0x1000_0000_0000 + (tag << 40) + obj * 64
}

/// `count` distinct stacks: a few call sites, recursion depth 1..=48 frames.
fn stacks(count: usize, seed: usize) -> Vec<Vec<usize>> {
    (0..count)
        .map(|i| {
            let site = 0x5555_0000_0000 + (i.wrapping_mul(2654435761) ^ seed) % (1 << 20) * 16;
            let depth = 1 + (i * 7 + seed) % 48;
            let mut f = vec![site, 0x5555_1000_0040];
            f.extend((0..depth).map(|d| 0x5555_2000_0000 + (i % 97) * 0x100 + d % 3 * 8));
            f.push(0x5555_3000_0010);
            f
        })
        .collect()
}

/// The best of `rounds` runs of `f`.
fn best(rounds: usize, mut f: impl FnMut() -> f64) -> f64 {
    (0..rounds).map(|_| f()).fold(f64::INFINITY, f64::min)
}

fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// (CPU ns per record, the mean over the threads; million records per second of wall
/// time, all threads together) of `threads` threads each doing `n` records into a
/// fresh ring.
fn record_cost(design: RingDesign, threads: usize, n: usize, evict: bool) -> (f64, f64) {
    let ring = Box::leak(Box::new(StackRing::new()));
    assert!(ring.init(design, RING_SIZE, cpus(), evict, &Pools));
    let depot = Box::leak(Box::new(StackDepot::new()));
    let per_thread: Vec<Vec<Vec<usize>>> = (0..threads).map(|t| stacks(64, 1000 + t)).collect();
    let persistent = depot.save(&per_thread[0][0], true, &Pools);
    let start = std::sync::Barrier::new(threads);
    let wall = Instant::now();
    let total: f64 = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let (ring, depot, mine, start) = (&*ring, &*depot, &per_thread[t], &start);
                s.spawn(move || {
                    pin(t % cpus());
                    start.wait();
                    let time = thread_ns();
                    for i in 0..n {
                        let stack = if evict {
                            depot.save_flags(black_box(&mine[i & 63]), GET, &Pools)
                        } else {
                            persistent
                        };
                        let track = Track {
                            pid: t as u32,
                            stack,
                            cpu: 0,
                            time_ns: 0,
                        };
                        let c = match design {
                            RingDesign::Global => 0,
                            RingDesign::PerCpu => cpu(),
                        };
                        let obj = tagged((t << 12) | (i & 4095), i % 14);
                        ring.record(obj, 64, i & 1 == 1, &track, c, &Tsc, depot);
                    }
                    (thread_ns() - time) as f64 / n as f64
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).sum()
    });
    let mrec = (threads * n) as f64 / wall.elapsed().as_nanos() as f64 * 1000.0;
    let s = ring.stats();
    assert_eq!(s.records, threads * n);
    if evict {
        // Every overwritten handle was put once: what is left is what the ring holds.
        let d = depot.stats();
        assert_eq!(d.bad_puts, 0);
    }
    (total / threads as f64, mrec)
}

fn section_record(quick: bool) {
    let n = if quick { 200_000 } else { 2_000_000 };
    let rounds = if quick { 1 } else { 5 };
    let getcpu = best(rounds, || {
        let t = Instant::now();
        for _ in 0..n {
            black_box(cpu());
        }
        t.elapsed().as_nanos() as f64 / n as f64
    });
    let tsc = best(rounds, || {
        let t = Instant::now();
        for _ in 0..n {
            black_box(Tsc.now());
        }
        t.elapsed().as_nanos() as f64 / n as f64
    });
    println!(
        "1. ns per record ({} CPUs, stack_ring_size={RING_SIZE}, best of {rounds}; \
         sched_getcpu {getcpu:.1} ns, lfence+rdtsc {tsc:.1} ns)",
        cpus()
    );
    for (title, evict) in [
        ("(a) the ring alone (persistent handle, no eviction)", false),
        (
            "(b) save(GET) of a stored stack + record + evicting put",
            true,
        ),
    ] {
        println!("   {title}");
        println!(
            "   {:<8} {:>11} {:>11} {:>15} {:>14} {:>14}",
            "threads",
            "global ns",
            "per-CPU ns",
            "global/per-CPU",
            "global Mrec/s",
            "per-CPU Mrec/s"
        );
        for threads in [1, 2, 4] {
            // Rounds alternate the designs, so both see the same machine load.
            let (mut g, mut p) = ((f64::INFINITY, 0.0f64), (f64::INFINITY, 0.0f64));
            for _ in 0..rounds {
                let a = record_cost(RingDesign::Global, threads, n, evict);
                let b = record_cost(RingDesign::PerCpu, threads, n, evict);
                g = (g.0.min(a.0), g.1.max(a.1));
                p = (p.0.min(b.0), p.1.max(b.1));
            }
            println!(
                "   {threads:<8} {:>11.1} {:>11.1} {:>15.2} {:>14.1} {:>14.1}",
                g.0,
                p.0,
                g.0 / p.0,
                g.1,
                p.1
            );
        }
    }
}

fn section_find(quick: bool) {
    let finds = if quick { 50 } else { 500 };
    let rounds = if quick { 1 } else { 5 };
    println!(
        "2. us per find in a full ring of {RING_SIZE} entries (best of {rounds} x {finds} finds)"
    );
    println!(
        "   {:<28} {:>8} {:>14} {:>12} {:>12}",
        "design", "rings", "entries/ring", "present", "absent"
    );
    let depot = StackDepot::new();
    let mut rows = vec![(RingDesign::Global, 1), (RingDesign::PerCpu, cpus())];
    if cpus() != 8 {
        rows.push((RingDesign::PerCpu, 8));
    }
    for (design, rings) in rows {
        let ring = Box::leak(Box::new(StackRing::new()));
        assert!(ring.init(design, RING_SIZE, rings, false, &Pools));
        let total = ring.stats().entries_per_ring * ring.stats().rings;
        for i in 0..total {
            let track = Track {
                pid: 1,
                stack: Handle::NONE,
                cpu: 0,
                time_ns: 0,
            };
            ring.record(tagged(i, i % 14), 64, i % 2 == 1, &track, i, &Tsc, &depot);
        }
        let time = |obj: usize| {
            best(rounds, || {
                let t = Instant::now();
                for _ in 0..finds {
                    black_box(ring.find(black_box(tagged(obj, obj % 14)), 64));
                }
                t.elapsed().as_nanos() as f64 / finds as f64 / 1000.0
            })
        };
        // The oldest entry (found last by a newest-first walk) and an absent object.
        let present = time(0);
        assert!(ring.find(tagged(0, 0), 64).alloc.is_some());
        let absent = time(total + 5);
        let name = match design {
            RingDesign::Global => "global",
            RingDesign::PerCpu => "per-CPU",
        };
        println!(
            "   {name:<28} {rings:>8} {:>14} {present:>12.1} {absent:>12.1}",
            ring.stats().entries_per_ring
        );
    }
}

fn section_memory(quick: bool) {
    let distinct = if quick { 20_000 } else { 200_000 };
    let events = if quick { 200_000 } else { 2_000_000 };
    let all = stacks(distinct, 7);
    let avg = all.iter().map(Vec::len).sum::<usize>() as f64 / all.len() as f64;
    println!(
        "3. depot memory after {events} alloc/free events over {distinct} distinct stacks \
         ({avg:.1} frames on average), ring of {RING_SIZE}"
    );
    println!(
        "   {:<44} {:>12} {:>10} {:>10} {:>12}",
        "", "depot bytes", "stacks", "in use", "ring bytes"
    );
    for (name, evict) in [
        ("eviction on (GET, put on overwrite)", true),
        ("eviction off (persistent handles)", false),
    ] {
        let ring = Box::leak(Box::new(StackRing::new()));
        assert!(ring.init(RingDesign::Global, RING_SIZE, 1, evict, &Pools));
        let depot = Box::leak(Box::new(StackDepot::new()));
        // No cap: the figure is what the run needs.
        depot.set_cap(usize::MAX);
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for i in 0..events {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let frames = &all[(x % distinct as u64) as usize];
            let stack = if evict {
                depot.save_flags(frames, GET, &Pools)
            } else {
                depot.save(frames, true, &Pools)
            };
            let track = Track {
                pid: 1,
                stack,
                cpu: 0,
                time_ns: 0,
            };
            ring.record(
                tagged(i % 8192, i % 14),
                64,
                i % 2 == 1,
                &track,
                0,
                &Tsc,
                depot,
            );
        }
        let d = depot.stats();
        println!(
            "   {name:<44} {:>12} {:>10} {:>10} {:>12}",
            d.bytes,
            d.stacks,
            d.in_use,
            ring.stats().bytes
        );
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    section_record(quick);
    section_find(quick);
    section_memory(quick);
}
