//! The Rust case of the in-kernel suite (`rust_uaf`, as Linux's kasan_test_rust.rs):
//! Rust code instrumented by rustc's address sanitizer at the kernel's shadow offset,
//! whose inline checks the kernel's runtime answers, must have its use-after-free
//! reported like C's.
//!
//! Built by run.sh with the nightly toolchain, as one object (no core or alloc of
//! its own, so nothing clashes with the kernel's stable-built staticlib):
//! `rustc +nightly --crate-type=lib --emit=obj -Zsanitizer=address
//! -Zsanitizer-recover=address -Cllvm-args=-asan-mapping-offset=0xdffffc0000000000
//! -Cllvm-args=-asan-globals=0` plus the kernel's code-model flags. Memory comes from
//! kmalloc, as the kernel's Rust allocator's does.

#![no_std]

unsafe extern "C" {
    fn kmalloc(size: usize, flags: u32) -> *mut u8;
    fn kfree(p: *const u8);
}

/// `GFP_KERNEL`.
const GFP_KERNEL: u32 = 0xcc0;

/// A use-after-free from Rust: fill a 4096-byte buffer, free it, then read its
/// middle.
#[unsafe(no_mangle)]
pub extern "C" fn kasan_test_rust_uaf() -> u8 {
    // SAFETY: none for the last read: it is the bug under test. The buffer is a
    // 4096-byte kmalloc object while written; the accesses are volatile so that the
    // compiler keeps them.
    unsafe {
        let p = kmalloc(4096, GFP_KERNEL);
        if p.is_null() {
            return 0;
        }
        for i in 0..4096 {
            p.add(i).write_volatile(0x42);
        }
        kfree(p);
        p.add(2048).read_volatile()
    }
}
