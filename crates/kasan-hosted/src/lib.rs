//! KASAN's Linux-process platform: the shadow mapped at the compiler's offset, the
//! heap arena and runtime memory from `mmap`, task and CPU ids, frame-pointer stacks,
//! report output, and symbolization from the binary's ELF symbols and DWARF; for the
//! software tag-based mode, the tagged heap region ([`tagged`]).
//!
//! [`HostedPlatform`] is the core's [`kasan_core::platform::Platform`] for a process.

pub mod cfi;
pub mod env;
pub mod fault;
pub mod memory;
pub mod output;
pub mod own;
pub mod shadow_map;
pub mod symbolize;
pub mod sys;
pub mod tagged;
pub mod task;

use kasan_core::platform::{Platform, Symbol, Task};
pub use tagged::{TaggedHeap, TaggedPages};

/// The platform of a Linux process.
#[derive(Debug, Default, Clone, Copy)]
pub struct HostedPlatform;

impl Platform for HostedPlatform {
    fn task(&self) -> Task {
        task::current()
    }
    fn cpu(&self) -> u32 {
        task::cpu()
    }
    fn now_ns(&self) -> u64 {
        task::now_ns()
    }
    fn write(&self, text: &[u8]) {
        output::write(text);
    }
    fn symbolize(&self, pc: usize, is_return: bool, f: &mut dyn FnMut(&Symbol<'_>)) {
        symbolize::symbolize(pc, is_return, &mut |s: &symbolize::Symbol<'_>| {
            f(&Symbol {
                name: s.name,
                offset: s.offset,
                size: s.size,
                file: s.file,
                line: s.line,
            })
        });
    }
    fn inlined(&self, pc: usize, is_return: bool, f: &mut dyn FnMut(&Symbol<'_>)) {
        symbolize::inlined(pc, is_return, &mut |s: &symbolize::Symbol<'_>| {
            f(&Symbol {
                name: s.name,
                offset: 0,
                size: 0,
                file: s.file,
                line: s.line,
            })
        });
    }
    fn read_word(&self, addr: usize) -> Option<usize> {
        memory::read_word(addr)
    }
    fn uid(&self) -> u32 {
        // SAFETY: geteuid has no preconditions and cannot fail.
        unsafe { libc::geteuid() }
    }
    fn tgid(&self) -> u32 {
        // SAFETY: getpid has no preconditions and cannot fail.
        unsafe { libc::getpid() as u32 }
    }
    fn hardware_name(&self) -> Option<&str> {
        task::hardware_name()
    }
    fn on_report_stack(&self, f: &mut dyn FnMut()) {
        own::on_report_stack(f);
    }
    fn halt(&self, message: &str) -> ! {
        output::write_panic(message);
        // SAFETY: abort has no preconditions.
        unsafe { libc::abort() }
    }
}
