//! Faults in inline-instrumented code: an address with no shadow (a non-canonical
//! pointer such as `0xdead000000000000`) makes the compiler's own shadow load fault
//! before the runtime is ever called. Linux catches this in its general-protection
//! handler (`kasan_non_canonical_hook`); a process catches it in `SIGSEGV`.
//!
//! [`shadow_operand`] decodes the faulting instruction: if it reads one or two
//! bytes (the compilers' shadow loads and compares: `movzbl`, `movsbl`, `movzwl`,
//! `cmpb`, `cmpw`, `mov r8`) from an address that can only be a shadow address
//! (beyond the mapped shadow, yet mapping back to a memory address), it returns
//! that shadow address, from which the bad memory address follows. Compilers
//! address shadow as `disp32(%base)`, `disp32(,%index,scale)`, or, when the memory
//! address is a constant, through a register holding the shadow address itself.

use crate::memory::{SHADOW_OFFSET, USER_END};

/// Register numbers in x86 encoding order (rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi,
/// r8..r15) mapped to `ucontext_t` `gregs` indices.
pub const GREG_INDEX: [usize; 16] = [13, 14, 12, 11, 15, 10, 9, 8, 0, 1, 2, 3, 4, 5, 6, 7];

/// Whether the opcode reads a byte or a word (with or without the 0x0F escape).
fn reads_byte_or_word(escaped: bool, op: u8, modrm_reg: u8) -> bool {
    if escaped {
        matches!(op, 0xB6 | 0xBE | 0xB7 | 0xBF)
    } else {
        // cmp r/m8,r8; cmp r8,r/m8; cmp r/m,r; mov r8,r/m8; test r/m8,r8;
        // group 1 with /7 (cmp r/m8|r/m16, imm).
        matches!(op, 0x38 | 0x3A | 0x39 | 0x3B | 0x8A | 0x84)
            || (matches!(op, 0x80 | 0x81 | 0x83) && modrm_reg == 7)
    }
}

/// The effective address of the instruction's memory operand, if it is a byte or
/// word read that is not RIP-relative.
fn effective_address(code: &[u8], reg: impl Fn(usize) -> usize) -> Option<usize> {
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
    i += 1;
    let modrm = *code.get(i)?;
    i += 1;
    let (mode, modrm_reg, rm) = (modrm >> 6, (modrm >> 3) & 7, modrm & 7);
    if mode == 3 || !reads_byte_or_word(escaped, op, modrm_reg) {
        return None;
    }
    let mut base_value = 0usize;
    let mut disp_forced = false;
    if rm == 4 {
        let sib = *code.get(i)?;
        i += 1;
        let scale = 1usize << (sib >> 6);
        let index = usize::from((sib >> 3) & 7 | ((rex & 2) << 2));
        if index != 4 {
            base_value = reg(index).wrapping_mul(scale);
        }
        if mode == 0 && sib & 7 == 5 {
            disp_forced = true;
        } else {
            base_value = base_value.wrapping_add(reg(usize::from(sib & 7 | ((rex & 1) << 3))));
        }
    } else if mode == 0 && rm == 5 {
        return None; // RIP-relative: never shadow.
    } else {
        base_value = reg(usize::from(rm | ((rex & 1) << 3)));
    }
    let disp = match (mode, disp_forced) {
        (2, _) | (0, true) => i32::from_le_bytes(code.get(i..i + 4)?.try_into().ok()?) as isize,
        (1, _) => *code.get(i)? as i8 as isize,
        _ => 0,
    };
    Some(base_value.wrapping_add_signed(disp))
}

/// The shadow address read by the instruction `code` (its first bytes), given the
/// values of the general registers (in x86 encoding order), or `None` if the
/// instruction is not a shadow access that faulted for lack of shadow.
pub fn shadow_operand(code: &[u8], reg: impl Fn(usize) -> usize) -> Option<usize> {
    let ea = effective_address(code, reg)?;
    let mapped_end = SHADOW_OFFSET + (USER_END >> 3);
    // A shadow address maps back to memory only if shifting it back loses nothing.
    let from_offset = ea.wrapping_sub(SHADOW_OFFSET);
    (ea >= mapped_end && from_offset < (1 << 61)).then_some(ea)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Registers holding the shadow of non-canonical addresses (beyond the mapped
    /// shadow), each distinct.
    fn regs(n: usize) -> usize {
        0x1bd5_a000_0000_0000 + 0x1000 * (n + 1)
    }

    #[test]
    fn decodes_what_gcc_and_clang_emit() {
        // movzbl 0x7fff8000(%rax),%eax
        assert_eq!(
            shadow_operand(&[0x0f, 0xb6, 0x80, 0x00, 0x80, 0xff, 0x7f], regs),
            Some(regs(0) + SHADOW_OFFSET)
        );
        // cmpb $0x0,0x7fff8000(%rdx)
        assert_eq!(
            shadow_operand(&[0x80, 0xba, 0x00, 0x80, 0xff, 0x7f, 0x00], regs),
            Some(regs(2) + SHADOW_OFFSET)
        );
        // movsbl 0x7fff8000(%r9),%ecx  (REX.B)
        assert_eq!(
            shadow_operand(&[0x41, 0x0f, 0xbe, 0x89, 0x00, 0x80, 0xff, 0x7f], regs),
            Some(regs(9) + SHADOW_OFFSET)
        );
        // movzbl 0x7fff8000(,%rcx,1),%eax  (SIB, no base)
        assert_eq!(
            shadow_operand(&[0x0f, 0xb6, 0x04, 0x0d, 0x00, 0x80, 0xff, 0x7f], regs),
            Some(regs(1) + SHADOW_OFFSET)
        );
        // movzwl 0x7fff8000(%rdi),%eax  (16-byte check)
        assert_eq!(
            shadow_operand(&[0x0f, 0xb7, 0x87, 0x00, 0x80, 0xff, 0x7f], regs),
            Some(regs(7) + SHADOW_OFFSET)
        );
    }

    #[test]
    fn decodes_a_constant_shadow_address_in_a_register() {
        // movabs $0x1bd5a0007fff8000,%rax; cmpb $0x0,(%rax)  (clang, constant address)
        let shadow = 0x1bd5_a000_7fff_8000usize;
        assert_eq!(
            shadow_operand(&[0x80, 0x38, 0x00], |r| if r == 0 { shadow } else { 0 }),
            Some(shadow)
        );
        // The same instruction on a register holding an ordinary wild pointer is the
        // program's own access, not a shadow load.
        assert_eq!(
            shadow_operand(&[0x80, 0x38, 0x00], |_| 0xdead_0000_0000_0000),
            None
        );
    }

    #[test]
    fn ignores_ordinary_accesses() {
        // mov (%rax),%rax
        assert_eq!(shadow_operand(&[0x48, 0x8b, 0x00], regs), None);
        // mov 0x10(%rbp),%eax
        assert_eq!(shadow_operand(&[0x8b, 0x45, 0x10], regs), None);
        // mov 0x12345678(%rax),%eax
        assert_eq!(
            shadow_operand(&[0x8b, 0x80, 0x78, 0x56, 0x34, 0x12], regs),
            None
        );
        assert_eq!(shadow_operand(&[], regs), None);
    }
}
