//! depot-bench: the stack depot's save cost and memory, side by side in one run.
//!
//! ```sh
//! cargo run --release -p depot-bench            # ~10 s
//! cargo run --release -p depot-bench -- --quick # ~2 s, for checking it runs
//! ```
//!
//! 1. ns per save of a stack already stored (persistent; and save(GET)+put of a
//!    refcounted one), hot (64 stacks) and over 20k stacks, one and two threads.
//! 2. ns per save of a new stack (fresh depots, pools mapped as they fill).
//! 3. Depot memory for one workload (20k distinct stacks of 5..40 frames, every other
//!    one put again within the next 2k saves): (a) persistent records only,
//!    (b) refcounted records with the puts, (c) Linux 6.8-rc1's fixed 544-byte slots,
//!    computed as the peak of live records x 544 packed into 16 KiB pools (30 a pool),
//!    freed slots reused at once (kinder to Linux than its RCU-delayed reuse).
//!
//! A benchmark, not a test: it prints figures and never fails on one.

use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use kasan_core::stack::{Handle, PoolSource, SaveFlags, SaveHints, StackDepot, POOL_SIZE};

/// Pools from the global allocator, zeroed, never freed (as the runtime's `mmap`).
struct Pools(AtomicUsize);

impl PoolSource for Pools {
    fn map_pool(&self, bytes: usize) -> Option<*mut u8> {
        self.0.fetch_add(bytes, Ordering::Relaxed);
        let layout = std::alloc::Layout::from_size_align(bytes, 4096).ok()?;
        // SAFETY: the layout has a non-zero size.
        let p = unsafe { std::alloc::alloc_zeroed(layout) };
        (!p.is_null()).then_some(p)
    }
}

/// xorshift64*.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// `count` distinct stacks of 5..=40 plausible return addresses.
fn stacks(count: usize, seed: u64) -> Vec<Vec<usize>> {
    let mut rng = Rng(seed);
    (0..count)
        .map(|_| {
            let len = 5 + rng.below(36);
            (0..len)
                .map(|_| 0x5555_5555_0000 + rng.below(1 << 20) * 4)
                .collect()
        })
        .collect()
}

const GET: SaveFlags = SaveFlags(SaveFlags::CAN_ALLOC.0 | SaveFlags::GET.0);

/// ns per call of `op(i)` over `n` calls.
fn time(n: usize, mut op: impl FnMut(usize)) -> f64 {
    for i in 0..n / 10 {
        op(i);
    }
    let t = Instant::now();
    for i in 0..n {
        op(i);
    }
    t.elapsed().as_nanos() as f64 / n as f64
}

/// The best of `rounds` runs of `f`.
fn best(rounds: usize, mut f: impl FnMut() -> f64) -> f64 {
    (0..rounds).map(|_| f()).fold(f64::INFINITY, f64::min)
}

fn existing(quick: bool) {
    let n = if quick { 1_000_000 } else { 5_000_000 };
    let rounds = if quick { 1 } else { 3 };
    let all = stacks(20_000, 1);
    let pools = Pools(AtomicUsize::new(0));
    let depot = StackDepot::new();
    let refd = StackDepot::new();
    for s in &all {
        depot.save(s, true, &pools);
        // One reference kept, so save(GET)+put never frees.
        refd.save_flags(s, GET, &pools);
    }
    let avg = all.iter().map(Vec::len).sum::<usize>() as f64 / all.len() as f64;
    println!("1. save of a stack already stored (20k stored, {avg:.1} frames on average)");
    println!("   {:<44} {:>10}", "", "ns/save");
    let hot = |i: usize| &all[(i * 7) & 63];
    let cold = |i: usize| &all[(i * 7919) % all.len()];
    let hints = SaveHints::new();
    let rows: [(&str, f64); 6] = [
        (
            "persistent, 64 hot stacks",
            best(rounds, || {
                time(n, |i| {
                    black_box(depot.save(black_box(hot(i)), true, &pools));
                })
            }),
        ),
        (
            "persistent, 64 hot stacks, hinted",
            best(rounds, || {
                time(n, |i| {
                    let s = black_box(hot(i));
                    black_box(depot.save_hinted(s, SaveFlags::CAN_ALLOC, &pools, &hints));
                })
            }),
        ),
        (
            "persistent, all 20k stacks in turn, hinted",
            best(rounds, || {
                time(n, |i| {
                    let s = black_box(cold(i));
                    black_box(depot.save_hinted(s, SaveFlags::CAN_ALLOC, &pools, &hints));
                })
            }),
        ),
        (
            "persistent, all 20k stacks in turn",
            best(rounds, || {
                time(n, |i| {
                    black_box(depot.save(black_box(cold(i)), true, &pools));
                })
            }),
        ),
        (
            "refcounted save(GET)+put, 64 hot stacks",
            best(rounds, || {
                time(n, |i| {
                    let h = refd.save_flags(black_box(hot(i)), GET, &pools);
                    refd.put(black_box(h));
                })
            }),
        ),
        (
            "refcounted save(GET)+put, all 20k in turn",
            best(rounds, || {
                time(n, |i| {
                    let h = refd.save_flags(black_box(cold(i)), GET, &pools);
                    refd.put(black_box(h));
                })
            }),
        ),
    ];
    for (name, ns) in rows {
        println!("   {name:<44} {ns:>10.1}");
    }
    // Two threads at once on the same hot stacks: lookups take no lock.
    for (name, get) in [
        ("persistent, 64 hot stacks, 2 threads", false),
        ("save(GET)+put, 64 hot stacks, 2 threads", true),
    ] {
        let ns = best(rounds, || {
            std::thread::scope(|s| {
                let workers: Vec<_> = (0..2)
                    .map(|t| {
                        let (depot, refd, all, pools) = (&depot, &refd, &all, &pools);
                        s.spawn(move || {
                            time(n, |i| {
                                let frames = &all[(i * 7 + t) & 63];
                                if get {
                                    let h = refd.save_flags(black_box(frames), GET, pools);
                                    refd.put(black_box(h));
                                } else {
                                    black_box(depot.save(black_box(frames), true, pools));
                                }
                            })
                        })
                    })
                    .collect();
                workers
                    .into_iter()
                    .map(|w| w.join().unwrap())
                    .fold(0.0, f64::max)
            })
        });
        println!("   {name:<44} {ns:>10.1}");
    }
}

fn new_stacks(quick: bool) {
    let depots = if quick { 2 } else { 10 };
    let all = stacks(20_000, 2);
    println!("2. save of a new stack (20k distinct into a fresh depot, best of {depots})");
    for (name, flags) in [
        ("persistent", SaveFlags::CAN_ALLOC),
        ("refcounted (GET)", GET),
    ] {
        let ns = best(depots, || {
            let pools = Pools(AtomicUsize::new(0));
            let depot = Box::new(StackDepot::new());
            let t = Instant::now();
            for s in &all {
                black_box(depot.save_flags(black_box(s), flags, &pools));
            }
            t.elapsed().as_nanos() as f64 / all.len() as f64
        });
        println!("   {name:<44} {ns:>10.1}");
    }
}

fn pool_bytes(depot: &StackDepot) -> usize {
    depot.stats().pools * POOL_SIZE
}

fn memory() {
    const STACKS: usize = 20_000;
    const LAG: usize = 2_000;
    const LINUX_SLOT: usize = 544;
    let all = stacks(STACKS, 3);
    let frames: usize = all.iter().map(Vec::len).sum();

    // (a) persistent records only: nothing can be given back.
    let pools = Pools(AtomicUsize::new(0));
    let a = StackDepot::new();
    for s in &all {
        assert!(a.save(s, true, &pools).is_some());
    }

    // (b) refcounted records; every odd stack is put at a random point within the next
    // LAG saves, so its slot can serve a later stack of the same size class.
    let b = StackDepot::new();
    let mut rng = Rng(4);
    let mut due: Vec<Vec<Handle>> = vec![Vec::new(); STACKS + LAG + 1];
    let (mut live, mut peak) = (0usize, 0usize);
    for (i, s) in all.iter().enumerate() {
        for h in std::mem::take(&mut due[i]) {
            b.put(h);
            live -= 1;
        }
        let h = b.save_flags(s, GET, &pools);
        assert!(h.is_some());
        live += 1;
        peak = peak.max(live);
        if i % 2 == 1 {
            due[i + 1 + rng.below(LAG)].push(h);
        }
    }
    for hs in due.drain(..) {
        for h in hs {
            b.put(h);
            live -= 1;
        }
    }
    let sb = b.stats();
    assert_eq!(sb.in_use, live);

    // (c) Linux's fixed slots for the same peak of live records.
    let per_pool = POOL_SIZE / LINUX_SLOT;
    let c = peak.div_ceil(per_pool) * POOL_SIZE;
    let (pa, pb) = (pool_bytes(&a), pool_bytes(&b));
    let kib = |b: usize| b as f64 / 1024.0;
    println!(
        "3. depot memory: {STACKS} distinct stacks of 5..40 frames ({:.1} on average), \
         every other one put within {LAG} saves; peak live {peak}, live at the end {live}",
        frames as f64 / STACKS as f64
    );
    println!(
        "   {:<44} {:>10} {:>12} {:>8}",
        "", "pools", "pool KiB", "vs (c)"
    );
    for (name, pools_kib, n) in [
        ("(a) persistent records only", kib(pa), pa / POOL_SIZE),
        (
            "(b) refcounted records + puts (freelists)",
            kib(pb),
            pb / POOL_SIZE,
        ),
        (
            "(c) Linux 544-byte slots, peak live x 544",
            kib(c),
            c / POOL_SIZE,
        ),
    ] {
        println!(
            "   {name:<44} {n:>10} {pools_kib:>12.0} {:>8.2}",
            pools_kib / kib(c)
        );
    }
    println!(
        "   (b)/(c) = {:.2}: {:.0}% below the fixed-slot baseline (goal: at least 30%)",
        pb as f64 / c as f64,
        (1.0 - pb as f64 / c as f64) * 100.0
    );
    println!(
        "   (b) at the end: {} stacks, {} evicted, {} KiB on freelists; \
         table + index add {} KiB to (a) and (b)",
        sb.stacks,
        sb.evicted,
        sb.freelist_bytes / 1024,
        (sb.bytes - pb) / 1024
    );
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    if std::env::args().any(|a| a == "-h" || a == "--help") {
        println!("usage: depot-bench [--quick]");
        return;
    }
    let t = Instant::now();
    existing(quick);
    new_stacks(quick);
    memory();
    eprintln!("({:.1} s)", t.elapsed().as_secs_f64());
}
