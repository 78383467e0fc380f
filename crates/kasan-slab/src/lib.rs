//! KASAN's allocators, `no_std`, with the hooks wired in: a page arena, Linux's
//! kmalloc size classes as slab caches, page-backed large objects, pages, vmalloc and
//! mempools. The heap is generic over KASAN's mode: generic (redzones, per-object
//! alloc/free tracks, the quarantine) or software tag-based (tagged pointers, tracks in
//! the stack ring).
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
pub use pages::WithdrawError;

#[cfg(test)]
mod tests;
