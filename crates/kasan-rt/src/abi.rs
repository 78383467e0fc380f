//! The compiler ABI of generic mode: every `__asan_*` entry point gcc 12 and clang-19
//! emit for `-fsanitize=kernel-address`, each a one-line forward to the runtime.
//! The list of exported names is `abi.txt` next to this file (tested against `nm`).
//!
//! Entry points take the frame pointer on entry: the first return address above it
//! is the instrumented code that made the access (`_RET_IP_`), which a report names.
#![allow(unsafe_code)]

use core::ffi::c_void;

use kasan_core::shadow::{encoding, round_up, GRANULE_SHIFT};
use kasan_hosted::memory::{SHADOW, SHADOW_OFFSET, USER_END};
use kasan_hosted::task::frame_pointer;

use crate::runtime::{check, ensure_init, ready, report_access, report_gpf};

macro_rules! sized_checks {
    ($($load:ident $store:ident $load_na:ident $store_na:ident $rload:ident $rstore:ident = $n:literal;)*) => {$(
        /// `void (void *addr)`: check a load of this size (outline instrumentation).
        #[unsafe(no_mangle)]
        pub extern "C" fn $load(addr: usize) { check(addr, $n, false, frame_pointer()); }
        /// `void (void *addr)`: check a store of this size.
        #[unsafe(no_mangle)]
        pub extern "C" fn $store(addr: usize) { check(addr, $n, true, frame_pointer()); }
        /// The `_noabort` alias (recovery is the default, as in the kernel).
        #[unsafe(no_mangle)]
        pub extern "C" fn $load_na(addr: usize) { check(addr, $n, false, frame_pointer()); }
        /// The `_noabort` alias of the store check.
        #[unsafe(no_mangle)]
        pub extern "C" fn $store_na(addr: usize) { check(addr, $n, true, frame_pointer()); }
        /// `void (void *addr)`: the inline check failed on a load; report it.
        #[unsafe(no_mangle)]
        pub extern "C" fn $rload(addr: usize) { report_inline(addr, $n, false, frame_pointer()); }
        /// `void (void *addr)`: the inline check failed on a store; report it.
        #[unsafe(no_mangle)]
        pub extern "C" fn $rstore(addr: usize) { report_inline(addr, $n, true, frame_pointer()); }
    )*};
}

sized_checks! {
    __asan_load1 __asan_store1 __asan_load1_noabort __asan_store1_noabort __asan_report_load1_noabort __asan_report_store1_noabort = 1;
    __asan_load2 __asan_store2 __asan_load2_noabort __asan_store2_noabort __asan_report_load2_noabort __asan_report_store2_noabort = 2;
    __asan_load4 __asan_store4 __asan_load4_noabort __asan_store4_noabort __asan_report_load4_noabort __asan_report_store4_noabort = 4;
    __asan_load8 __asan_store8 __asan_load8_noabort __asan_store8_noabort __asan_report_load8_noabort __asan_report_store8_noabort = 8;
    __asan_load16 __asan_store16 __asan_load16_noabort __asan_store16_noabort __asan_report_load16_noabort __asan_report_store16_noabort = 16;
}

/// `void (void *addr, ssize_t size)`: check a load of `size` bytes.
#[unsafe(no_mangle)]
pub extern "C" fn __asan_loadN(addr: usize, size: usize) {
    check(addr, size, false, frame_pointer());
}
/// `void (void *addr, ssize_t size)`: check a store of `size` bytes.
#[unsafe(no_mangle)]
pub extern "C" fn __asan_storeN(addr: usize, size: usize) {
    check(addr, size, true, frame_pointer());
}
/// The `_noabort` alias of `__asan_loadN`.
#[unsafe(no_mangle)]
pub extern "C" fn __asan_loadN_noabort(addr: usize, size: usize) {
    check(addr, size, false, frame_pointer());
}
/// The `_noabort` alias of `__asan_storeN`.
#[unsafe(no_mangle)]
pub extern "C" fn __asan_storeN_noabort(addr: usize, size: usize) {
    check(addr, size, true, frame_pointer());
}
/// `void (void *addr, ssize_t size)`: an inline check of an odd-sized load failed.
#[unsafe(no_mangle)]
pub extern "C" fn __asan_report_load_n_noabort(addr: usize, size: usize) {
    report_inline(addr, size, false, frame_pointer());
}
/// `void (void *addr, ssize_t size)`: an inline check of an odd-sized store failed.
#[unsafe(no_mangle)]
pub extern "C" fn __asan_report_store_n_noabort(addr: usize, size: usize) {
    report_inline(addr, size, true, frame_pointer());
}

/// x86-64 Linux's `KASAN_SHADOW_OFFSET`: where an inline-instrumented kernel looks
/// for the shadow of the NULL page (a non-canonical address, so the check faults).
const LINUX_SHADOW_OFFSET: usize = 0xdfff_fc00_0000_0000;

/// A failed inline check, made by the caller of the entry point whose frame is
/// `fp`. Only inline code calls the `__asan_report_*` entry points, and it calls
/// them for an address without shadow only on the NULL page (whose shadow we
/// poison; any other address without shadow faults in the check's own load,
/// see `signals`). An inline-KASAN x86-64 kernel faults there instead, with a
/// general protection fault on the shadow address `0xdffffc0000000000 + addr / 8`
/// that `kasan_non_canonical_hook` explains as a `null-ptr-deref`: that is the
/// report printed, and the task dies as it does there. Outline code's
/// `__asan_load*`/`__asan_store*` report it as `BUG: KASAN: null-ptr-deref`, as
/// an outline kernel's `kasan_check_range` does.
#[cold]
#[inline(never)]
fn report_inline(addr: usize, size: usize, is_write: bool, fp: usize) {
    if !SHADOW.has_metadata(addr) && addr < kasan_core::generic::PAGE_SIZE {
        let shadow_addr = LINUX_SHADOW_OFFSET + (addr >> GRANULE_SHIFT);
        if report_gpf(addr, size, is_write, shadow_addr, fp) {
            crate::signals::die_after_fault_report();
        }
        return;
    }
    report_access(addr, size, is_write, fp);
}

/// `struct kasan_global` (ABI v5; 64 bytes on LP64). Layout dictated by the compiler.
#[repr(C)]
#[derive(Debug)]
pub struct Global {
    beg: usize,
    size: usize,
    size_with_redzone: usize,
    name: *const u8,
    module_name: *const u8,
    has_dynamic_init: usize,
    location: *const c_void,
    odr_indicator: usize,
}

const _: () = assert!(core::mem::size_of::<Global>() == 64);

fn globals<'a>(globals: *const Global, n: usize) -> &'a [Global] {
    if globals.is_null() || n == 0 || n > (1 << 24) {
        return &[];
    }
    // SAFETY: the compiler passes an array of `n` descriptors in the object's data,
    // alive for the program's life (or until unregistered).
    unsafe { core::slice::from_raw_parts(globals, n) }
}

/// `void (struct kasan_global *globals, ssize_t n)`: unpoison each global and poison
/// its redzone.
#[unsafe(no_mangle)]
pub extern "C" fn __asan_register_globals(g: *const Global, n: usize) {
    ensure_init();
    for g in globals(g, n) {
        SHADOW.unpoison(g.beg, g.size);
        let redzone = g.beg + round_up(g.size);
        SHADOW.poison(
            redzone,
            (g.beg + g.size_with_redzone).saturating_sub(redzone),
            encoding::GLOBAL_REDZONE,
        );
    }
}

/// `void (struct kasan_global *globals, ssize_t n)`: the module is going away (a
/// `dlclose`); its memory may be reused, so its shadow is cleared.
#[unsafe(no_mangle)]
pub extern "C" fn __asan_unregister_globals(g: *const Global, n: usize) {
    if !ready() {
        return;
    }
    for g in globals(g, n) {
        SHADOW.poison(g.beg, g.size_with_redzone, 0);
    }
}

/// C++ dynamic initialisation order checking is not part of KASAN: accepted, no-op.
#[unsafe(no_mangle)]
pub extern "C" fn __asan_before_dynamic_init(_module_name: *const u8) {}

/// See `__asan_before_dynamic_init`.
#[unsafe(no_mangle)]
pub extern "C" fn __asan_after_dynamic_init() {}

/// `void (void)`: called before a call that does not return (`longjmp`, `exit`,
/// a throw). Frames between here and wherever control lands keep their redzones, so
/// the stack above here is unpoisoned, as ASan does ([`crate::unwind`] says which).
#[unsafe(no_mangle)]
pub extern "C" fn __asan_handle_no_return() {
    crate::unwind::no_return();
}

/// `void (void)`: the constructor userspace ASan instrumentation (rustc's
/// `-Zsanitizer=address`, clang's `-fsanitize=address`) emits in every module:
/// brings the runtime up, as a first check would.
#[unsafe(no_mangle)]
pub extern "C" fn __asan_init() {
    ensure_init();
}

/// `void (void)`: the instrumentation's version handshake (ASan ABI v8). The outline
/// checks, `__asan_handle_no_return` and the global registration this runtime
/// exports are v8's; nothing else is needed, so the check passes by being linked.
#[unsafe(no_mangle)]
pub extern "C" fn __asan_version_mismatch_check_v8() {}

/// `void (void *addr, ssize_t size)`: poison the redzones around a dynamic alloca
/// (`addr` is 32-aligned).
#[unsafe(no_mangle)]
pub extern "C" fn __asan_alloca_poison(addr: usize, size: usize) {
    let rz = encoding::ALLOCA_REDZONE_SIZE;
    let up8 = round_up(size);
    let up32 = size.next_multiple_of(rz);
    SHADOW.poison(addr.wrapping_sub(rz), rz, encoding::ALLOCA_LEFT);
    SHADOW.unpoison(addr, size);
    SHADOW.poison(addr + up8, up32 - up8 + rz, encoding::ALLOCA_RIGHT);
}

/// `void (void *stack_top, void *stack_bottom)`: unpoison the allocas of a frame
/// being left.
#[unsafe(no_mangle)]
pub extern "C" fn __asan_allocas_unpoison(top: usize, bottom: usize) {
    if top != 0 && top <= bottom && bottom - top < (256 << 20) {
        SHADOW.poison(top, bottom - top, 0);
    }
}

macro_rules! set_shadow {
    ($($name:ident = $value:literal;)*) => {$(
        /// `void (const void *shadow_addr, ssize_t size)`: fill shadow bytes directly.
        #[unsafe(no_mangle)]
        pub extern "C" fn $name(shadow: usize, size: usize) {
            let end = SHADOW_OFFSET + (USER_END >> GRANULE_SHIFT);
            if shadow >= SHADOW_OFFSET && shadow.saturating_add(size) <= end {
                SHADOW.poison(SHADOW.shadow_to_mem(shadow), size << GRANULE_SHIFT, $value);
            }
        }
    )*};
}

set_shadow! {
    __asan_set_shadow_00 = 0x00;
    __asan_set_shadow_f1 = 0xf1;
    __asan_set_shadow_f2 = 0xf2;
    __asan_set_shadow_f3 = 0xf3;
    __asan_set_shadow_f5 = 0xf5;
    __asan_set_shadow_f8 = 0xf8;
}

/// `void __asan_poison_memory_region(void const volatile *addr, size_t size)`.
#[unsafe(no_mangle)]
pub extern "C" fn __asan_poison_memory_region(addr: usize, size: usize) {
    crate::alloc_api::user_region("__asan_poison_memory_region", addr, size, true);
}

/// `void __asan_unpoison_memory_region(void const volatile *addr, size_t size)`.
#[unsafe(no_mangle)]
pub extern "C" fn __asan_unpoison_memory_region(addr: usize, size: usize) {
    crate::alloc_api::user_region("__asan_unpoison_memory_region", addr, size, false);
}
