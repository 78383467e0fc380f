//! The compiler ABI of software tag-based mode: the 26 `__hwasan_*` entry points
//! clang-19 emits on x86-64 for `-fsanitize=kernel-hwaddress` with outline checks,
//! stack tagging off and the mem-intrinsic prefix (`kasan cc --mode=sw-tags`; the list
//! and how it was found: `docs/design/sw-tags/abi-results.md`, `abi.txt`).
//!
//! Every callback is called before the access with the pointer exactly as the program
//! holds it, tag included, and is recover-mode (`_noabort`: the driver cannot turn
//! recovery off), so a bad access is reported and the program goes on. Each reads its
//! frame pointer, as the `__asan_*` ones do, so the report names the instrumented
//! caller (`_RET_IP_`).
//!
//! In a generic-mode process (a tag-mode library `dlopen`'d into a program built
//! without `--mode=sw-tags`) there are no tagged pointers to check: the first call
//! prints one `kasan:` line and every call passes.
#![allow(unsafe_code)]

use core::ffi::{c_int, c_void};

use kasan_hosted::task::frame_pointer;

use crate::runtime::{check_tagged, tag_memory};

macro_rules! sized_tag_checks {
    ($($load:ident $store:ident = $n:literal;)*) => {$(
        /// `void (uintptr_t addr)`: check a load of this size against the memory's tag.
        #[unsafe(no_mangle)]
        pub extern "C" fn $load(addr: usize) { check_tagged(addr, $n, false, frame_pointer()); }
        /// `void (uintptr_t addr)`: check a store of this size (atomics count as stores).
        #[unsafe(no_mangle)]
        pub extern "C" fn $store(addr: usize) { check_tagged(addr, $n, true, frame_pointer()); }
    )*};
}

sized_tag_checks! {
    __hwasan_load1_noabort __hwasan_store1_noabort = 1;
    __hwasan_load2_noabort __hwasan_store2_noabort = 2;
    __hwasan_load4_noabort __hwasan_store4_noabort = 4;
    __hwasan_load8_noabort __hwasan_store8_noabort = 8;
    __hwasan_load16_noabort __hwasan_store16_noabort = 16;
}

/// `void (uintptr_t addr, uintptr_t size)`: a load of another size, or an
/// under-aligned one (a packed struct's field).
#[unsafe(no_mangle)]
pub extern "C" fn __hwasan_loadN_noabort(addr: usize, size: usize) {
    check_tagged(addr, size, false, frame_pointer());
}

/// `void (uintptr_t addr, uintptr_t size)`: a store of another size.
#[unsafe(no_mangle)]
pub extern "C" fn __hwasan_storeN_noabort(addr: usize, size: usize) {
    check_tagged(addr, size, true, frame_pointer());
}

/// `void *(void *dst, const void *src, size_t n)`: `-hwasan-kernel-mem-intrinsic-prefix`'s
/// `memcpy` (struct copies too); both ranges checked at entry, as the `__asan_` form.
///
/// # Safety
///
/// As C's `memcpy`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __hwasan_memcpy(
    dst: *mut c_void,
    src: *const c_void,
    len: usize,
) -> *mut c_void {
    crate::strings::do_memcpy(dst, src, len, frame_pointer())
}

/// The prefixed `memmove`.
///
/// # Safety
///
/// As C's `memmove`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __hwasan_memmove(
    dst: *mut c_void,
    src: *const c_void,
    len: usize,
) -> *mut c_void {
    crate::strings::do_memcpy(dst, src, len, frame_pointer())
}

/// The prefixed `memset`.
///
/// # Safety
///
/// As C's `memset`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __hwasan_memset(dst: *mut c_void, c: c_int, len: usize) -> *mut c_void {
    crate::strings::do_memset(dst, c, len, frame_pointer())
}

/// `void (void *addr, u8 tag, uintptr_t size)`: stack instrumentation's tagging of an
/// alloca (only emitted with stack tagging on, which `kasan cc` turns off): Linux's
/// `kasan_poison(addr, size, tag)`. Accepted for heap memory only.
#[unsafe(no_mangle)]
pub extern "C" fn __hwasan_tag_memory(addr: usize, tag: u8, size: usize) {
    tag_memory(addr, tag, size);
}
