//! The Rust case of the ported KASAN suite (`rust_uaf`, Linux's kasan_test_rust.rs):
//! Rust code instrumented by rustc's address sanitizer, whose checks the kasan
//! runtime answers, must have its use-after-free reported like C's.
//!
//! Built as a `no_std` staticlib by `kasan selftest` with the nightly toolchain:
//! `rustc +nightly -Zsanitizer=address -Zsanitizer-recover=address
//! -Cllvm-args=-asan-instrumentation-with-call-threshold=0 -Cllvm-args=-asan-stack=0
//! -Cllvm-args=-asan-globals=0 -Cpanic=abort -O --crate-type=staticlib`. Every access
//! becomes a call such as `__asan_load1_noabort`, which the runtime serves in either
//! mode; rustc's own sanitizer runtime is not part of a staticlib. Memory comes from
//! kmalloc, as the kernel's Rust allocator's does.

#![no_std]

extern crate alloc;

use alloc::vec::Vec;
use core::alloc::{GlobalAlloc, Layout};

unsafe extern "C" {
    fn kmalloc(size: usize, flags: u32) -> *mut u8;
    fn kfree(p: *const u8);
    fn abort() -> !;
}

/// `GFP_KERNEL` of include/kasan.h.
const GFP_KERNEL: u32 = 0xcc0;

/// The global allocator: kmalloc and kfree.
struct Kmalloc;

// SAFETY: kmalloc returns memory of at least `size` bytes aligned to the smaller of 8
// and its size class (a power of two up to a page for these requests); larger
// alignments are refused with NULL, as GlobalAlloc permits.
unsafe impl GlobalAlloc for Kmalloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() > 8 {
            return core::ptr::null_mut();
        }
        // SAFETY: a plain C allocation call.
        unsafe { kmalloc(layout.size(), GFP_KERNEL) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: ptr came from kmalloc above.
        unsafe { kfree(ptr) }
    }
}

#[global_allocator]
static ALLOCATOR: Kmalloc = Kmalloc;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    // SAFETY: libc's abort ends the process.
    unsafe { abort() }
}

/// A use-after-free from Rust: fill a 4096-byte vector, keep a pointer into its middle,
/// drop the vector, then read through the pointer.
#[unsafe(no_mangle)]
pub extern "C" fn kasan_test_rust_uaf() -> u8 {
    let mut v: Vec<u8> = Vec::new();
    for _ in 0..4096 {
        v.push(0x42);
    }
    let p: *mut u8 = &raw mut v[2048];
    drop(v);
    // SAFETY: none: this is the bug under test. The read is volatile so that the
    // compiler, which knows the memory is freed, keeps it.
    unsafe { p.read_volatile() }
}
