//! The hosted KASAN runtime, generic mode: `libkasan.a` and `libkasan.so`.
//!
//! Linked into a program built with `-fsanitize=kernel-address`, it starts before
//! any instrumented code (a `.preinit_array` entry, or the library's constructor),
//! exports the compiler ABI ([`abi`]), serves every allocation from the kasan-slab
//! heap ([`alloc_api`]), checks the memory and string functions ([`strings`]), and
//! prints Linux's report for each bug ([`runtime`]).
//!
//! The crate is `no_builtins` so that its string routines are never compiled into
//! calls to themselves, and its Rust allocations come from an internal `mmap`
//! allocator, never from the program's heap.
#![no_builtins]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod abi;
pub mod abi_hwasan;
pub mod alloc_api;
pub mod checked;
pub mod kernel;
pub mod kernel_mm;
pub mod kstring;
pub mod libc_io;
pub mod libc_str;
pub mod mappings;
pub mod printf;
pub mod rcu;
pub mod runtime;
pub mod signals;
pub mod strings;
pub mod threads;
pub mod unwind;
pub mod workqueue;

use kasan_hosted::memory::InternalAlloc;

#[global_allocator]
pub(crate) static ALLOC: InternalAlloc = InternalAlloc::new();

extern "C" fn start() {
    runtime::ensure_init();
}

/// Runs before the program's constructors (and so before any globals are
/// registered) when the library is linked into an executable.
#[used]
#[unsafe(link_section = ".preinit_array")]
static PREINIT: extern "C" fn() = start;

/// The same for the shared library, where `.preinit_array` is not run: the
/// library's constructors run before those of the program that needs it.
#[used]
#[unsafe(link_section = ".init_array.00099")]
static INIT: extern "C" fn() = start;
