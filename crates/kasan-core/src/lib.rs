//! KASAN's portable core: everything that is policy, for every mode, with no OS below it.
//!
//! The core owns the modes as types ([`mode`]: generic in [`generic`] over the 1/8
//! shadow of [`shadow`], software tag-based in [`sw_tags`]), the stack depot
//! ([`stack`]) and the tag modes' stack ring ([`stack_ring`]), the report text and JSON
//! ([`report`]), and the configuration table ([`config`]). It never allocates and
//! never calls instrumented code; what it needs from its host is the
//! [`platform::Platform`] contract.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod config;
pub mod generic;
pub mod mode;
pub mod platform;
pub mod report;
pub mod shadow;
pub mod shadow_pages;
pub mod stack;
pub mod stack_ring;
pub mod sw_tags;
pub mod sync;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
