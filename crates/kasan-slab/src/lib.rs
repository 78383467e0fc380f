//! KASAN's allocators, `no_std`, with the hooks wired in: a page arena, Linux's
//! kmalloc size classes as slab caches with redzones, page-backed large objects,
//! alloc/free tracks per object, and the generic-mode quarantine.
//!
//! A kernel without allocators of its own can use these as they are; the hosted
//! runtime serves `malloc` and `kmalloc` from them.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod cache;
pub mod heap;
pub mod pages;
pub mod quarantine;

pub use heap::{AllocError, DestroyError, FreeError, FreeKind, Heap, HeapStats, Host};

#[cfg(test)]
mod tests;
