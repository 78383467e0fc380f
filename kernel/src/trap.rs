//! Exceptions (platform code): the IDT, and what the kernel does with a fault.
//!
//! A general protection fault in inline-instrumented code is most often KASAN's:
//! the check of an address without shadow (NULL, a user address, a non-canonical
//! pointer) loads a shadow byte at a non-canonical address. As Linux's
//! `kasan_non_canonical_hook`, the handler decodes the faulting instruction, and if
//! it is a byte or word load from a would-be shadow address, reports the range of
//! memory that address stands for (kasan-core's `Gpf` report, with the registers).
//! A fault inside a guarded test case then resumes the harness; anywhere else it
//! stops the machine.
#![allow(unsafe_code)]

use kasan_core::report::{Gpf, Registers};

use crate::io;
use crate::mm::SHADOW_OFFSET;

/// The registers the stubs in boot.S push, lowest address first.
#[repr(C)]
#[derive(Debug)]
pub struct Frame {
    r15: usize,
    r14: usize,
    r13: usize,
    r12: usize,
    r11: usize,
    r10: usize,
    r9: usize,
    r8: usize,
    rbp: usize,
    rdi: usize,
    rsi: usize,
    rdx: usize,
    rcx: usize,
    rbx: usize,
    rax: usize,
    vector: usize,
    error: usize,
    rip: usize,
    cs: usize,
    rflags: usize,
    rsp: usize,
    ss: usize,
}

impl Frame {
    /// A register by its x86 encoding number (rax, rcx, rdx, rbx, rsp, rbp, rsi,
    /// rdi, r8..r15).
    fn reg(&self, n: usize) -> usize {
        [
            self.rax, self.rcx, self.rdx, self.rbx, self.rsp, self.rbp, self.rsi, self.rdi,
            self.r8, self.r9, self.r10, self.r11, self.r12, self.r13, self.r14, self.r15,
        ][n & 15]
    }
    fn registers(&self) -> Registers {
        Registers {
            ip: self.rip,
            sp: self.rsp,
            flags: self.rflags,
            error_code: self.error,
            gp: [
                self.rax, self.rbx, self.rcx, self.rdx, self.rsi, self.rdi, self.rbp, self.r8,
                self.r9, self.r10, self.r11, self.r12, self.r13, self.r14, self.r15,
            ],
        }
    }
}

unsafe extern "C" {
    static isr_0: u8;
    static isr_1: u8;
    static isr_2: u8;
    static isr_3: u8;
    static isr_4: u8;
    static isr_5: u8;
    static isr_6: u8;
    static isr_7: u8;
    static isr_8: u8;
    static isr_9: u8;
    static isr_10: u8;
    static isr_11: u8;
    static isr_12: u8;
    static isr_13: u8;
    static isr_14: u8;
    static isr_15: u8;
    static isr_16: u8;
    static isr_17: u8;
    static isr_18: u8;
    static isr_19: u8;
}

#[repr(C, align(16))]
struct Idt([u64; 64]);
#[repr(C, align(16))]
struct Gdt([u64; 3]);

static mut IDT: Idt = Idt([0; 64]);
static GDT: Gdt = Gdt([0, 0x00af_9a00_0000_ffff, 0x00cf_9200_0000_ffff]);

#[repr(C, packed)]
struct Pointer {
    limit: u16,
    base: usize,
}

/// Loads the kernel's own GDT (in the higher half, so the boot identity map may
/// go) and an IDT for the 20 exceptions.
pub fn init() {
    let stubs = [
        &raw const isr_0,
        &raw const isr_1,
        &raw const isr_2,
        &raw const isr_3,
        &raw const isr_4,
        &raw const isr_5,
        &raw const isr_6,
        &raw const isr_7,
        &raw const isr_8,
        &raw const isr_9,
        &raw const isr_10,
        &raw const isr_11,
        &raw const isr_12,
        &raw const isr_13,
        &raw const isr_14,
        &raw const isr_15,
        &raw const isr_16,
        &raw const isr_17,
        &raw const isr_18,
        &raw const isr_19,
    ];
    for (i, s) in stubs.iter().enumerate() {
        let a = *s as usize as u64;
        let lo = (a & 0xffff) | (0x08 << 16) | (0x8E00 << 32) | ((a >> 16) & 0xffff) << 48;
        let hi = a >> 32;
        // SAFETY: boot, one CPU, before interrupts are possible: nothing else reads
        // the IDT while it is written.
        unsafe {
            IDT.0[2 * i] = lo;
            IDT.0[2 * i + 1] = hi;
        }
    }
    let gdt = Pointer {
        limit: 23,
        base: &raw const GDT as usize,
    };
    let idt = Pointer {
        limit: (20 * 16 - 1) as u16,
        base: &raw const IDT as usize,
    };
    // SAFETY: both tables are static and valid; the GDT has the same descriptors
    // as the boot one, so the loaded segments stay valid.
    unsafe {
        core::arch::asm!("lgdt [{}]", in(reg) &gdt, options(readonly, nostack));
        core::arch::asm!("lidt [{}]", in(reg) &idt, options(readonly, nostack));
    }
}

/// Whether the opcode reads a byte or a word (the compilers' shadow loads).
fn reads_byte_or_word(escaped: bool, op: u8, modrm_reg: u8) -> bool {
    if escaped {
        matches!(op, 0xB6 | 0xBE | 0xB7 | 0xBF)
    } else {
        matches!(op, 0x38 | 0x3A | 0x39 | 0x3B | 0x8A | 0x84)
            || (matches!(op, 0x80 | 0x81 | 0x83) && modrm_reg == 7)
    }
}

/// The memory operand of a byte or word read at `code`, from the registers.
fn effective_address(code: &[u8], f: &Frame) -> Option<usize> {
    let mut i = 0;
    while i < code.len() && matches!(code[i], 0x66 | 0x67 | 0xF2 | 0xF3 | 0x2E | 0x3E) {
        i += 1;
    }
    let rex = match code.get(i) {
        Some(&b) if (0x40..=0x4F).contains(&b) => {
            i += 1;
            b
        }
        _ => 0,
    };
    let escaped = *code.get(i)? == 0x0F;
    if escaped {
        i += 1;
    }
    let op = *code.get(i)?;
    let modrm = *code.get(i + 1)?;
    i += 2;
    let (mode, modrm_reg, rm) = (modrm >> 6, (modrm >> 3) & 7, modrm & 7);
    if mode == 3 || !reads_byte_or_word(escaped, op, modrm_reg) {
        return None;
    }
    let mut base = 0usize;
    let mut disp32 = mode == 2;
    if rm == 4 {
        let sib = *code.get(i)?;
        i += 1;
        let index = usize::from((sib >> 3) & 7 | ((rex & 2) << 2));
        if index != 4 {
            base = f.reg(index).wrapping_mul(1 << (sib >> 6));
        }
        if mode == 0 && sib & 7 == 5 {
            disp32 = true;
        } else {
            base = base.wrapping_add(f.reg(usize::from(sib & 7 | ((rex & 1) << 3))));
        }
    } else if mode == 0 && rm == 5 {
        return None;
    } else {
        base = f.reg(usize::from(rm | ((rex & 1) << 3)));
    }
    let disp = if disp32 {
        i32::from_le_bytes(code.get(i..i + 4)?.try_into().ok()?) as isize
    } else if mode == 1 {
        *code.get(i)? as i8 as isize
    } else {
        0
    };
    Some(base.wrapping_add_signed(disp))
}

/// The shadow address a faulting instruction loaded, if it is a shadow load of an
/// address with no shadow.
fn shadow_operand(f: &Frame) -> Option<usize> {
    if !crate::platform::in_text(f.rip) {
        return None;
    }
    // SAFETY: the kernel's text is mapped and readable; 16 bytes from an
    // instruction inside it stay in the image (.rodata follows .text).
    let code = unsafe { core::slice::from_raw_parts(f.rip as *const u8, 16) };
    let ea = effective_address(code, f)?;
    let canonical = (ea as isize >> 47) == 0 || (ea as isize >> 47) == -1;
    let from = ea.wrapping_sub(SHADOW_OFFSET);
    (!canonical && from < (1 << 61)).then_some(ea)
}

fn resume_or_halt(f: &mut Frame) {
    if let Some((rip, rsp)) = crate::abi::recovery() {
        f.rip = rip;
        f.rsp = rsp;
        return;
    }
    io::serial_write(b"Kernel panic - not syncing: Fatal exception\n");
    io::qemu_exit(3);
}

fn print_fault(what: core::fmt::Arguments<'_>, f: &Frame) {
    let mut buf = [0u8; 512];
    let mut w = crate::Buf::new(&mut buf);
    let _ = core::fmt::write(&mut w, what);
    let _ = core::fmt::write(
        &mut w,
        format_args!(
            "RIP: 0010:{:#x} RSP: {:#x} error {:#x}\n",
            f.rip, f.rsp, f.error
        ),
    );
    if let Some((name, start, _)) = crate::platform::lookup(f.rip) {
        let _ = core::fmt::write(
            &mut w,
            format_args!("RIP is in {}+{:#x}\n", name, f.rip - start),
        );
    }
    io::serial_write(w.bytes());
}

/// Called by the stubs with the saved registers; may redirect the return.
#[unsafe(no_mangle)]
pub extern "C" fn trap_dispatch(f: &mut Frame) {
    match f.vector {
        13 => {
            if let Some(ea) = shadow_operand(f) {
                let fault = Gpf {
                    shadow_addr: ea,
                    addr: ea.wrapping_sub(SHADOW_OFFSET) << 3,
                    access: None,
                    regs: Some(f.registers()),
                };
                let mut frames = [0usize; 64];
                frames[0] = f.rip;
                let n = 1 + crate::runtime::save_stack(f.rbp, &mut frames[1..]);
                if !crate::runtime::report_gpf(&fault, &frames[..n]) {
                    print_fault(
                        format_args!(
                            "Oops: general protection fault, probably for non-canonical \
                             address {ea:#x}: 0000 (kasan=off: no KASAN report)\n"
                        ),
                        f,
                    );
                }
            } else {
                print_fault(
                    format_args!("Oops: general protection fault: {:04x}\n", f.error),
                    f,
                );
            }
            resume_or_halt(f);
        }
        14 => {
            print_fault(
                format_args!(
                    "BUG: unable to handle page fault for address: {:#018x}\n",
                    io::cr2()
                ),
                f,
            );
            resume_or_halt(f);
        }
        v => {
            print_fault(format_args!("Oops: exception {v}\n"), f);
            io::qemu_exit(3);
        }
    }
}
