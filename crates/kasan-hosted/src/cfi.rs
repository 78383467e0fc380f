//! Report-time unwinding through code built without frame pointers, from the loaded
//! objects' `.eh_frame` (found through `PT_GNU_EH_FRAME`, read in memory).
//!
//! The runtime's frame-pointer walk ([`crate::task::save_stack`]) is what every
//! allocation and free uses: a few loads a frame. It stops, or runs into garbage, at
//! the first function that uses `rbp` for something else: glibc's `qsort`, `bsearch`,
//! `tsearch`, most distribution libraries. A report's call trace is taken once, so it
//! can afford the unwinder's way: for each return address, the call frame information
//! of its function says where the caller's frame (CFA), return address and `rbp` are.
//! Where an address has no CFI (JIT code, a module without `.eh_frame`), the step falls
//! back to the frame-pointer rule, so the walk is never worse than the plain one.
//!
//! ```text
//!   state (pc, sp, rbp), pc a return address into function F
//!   F's CFI at pc-1:  CFA = rsp + k | rbp + k        (other rules: give up on CFI)
//!                     caller's pc  = [CFA + ra_off]
//!                     caller's rbp = [CFA + rbp_off] | rbp (same value)
//!                     caller's sp  = CFA
//! ```
//!
//! Stack words are read through the kernel ([`crate::memory::read_word`]), so a wrong
//! rule or a torn stack ends the walk instead of faulting. The walk ends at a zero or
//! undefined return address (the outermost frame), when the stack stops growing, or
//! when `out` is full. It allocates (gimli's unwind context), so it runs only on the
//! report path.
//!
//! [`rule_for`] is the allocation path's half: the same tables, read with a context
//! held on the stack (no allocation, about 5 KiB of stack), reduced to the
//! [`UnwindRule`] of one return address, which the caller caches
//! ([`kasan_core::stack::UnwindCache`]): each return address is looked up once.

use addr2line::gimli::{
    BaseAddresses, CfaRule, EhFrame, EhFrameHdr, EndianSlice, LittleEndian, Pointer, RegisterRule,
    UnwindContext, UnwindSection, X86_64,
};
use core::ffi::{c_int, c_void};

use addr2line::gimli::{ReaderOffset, Register, UnwindContextStorage, UnwindTableRow};
use kasan_core::stack::UnwindRule;

use crate::memory::read_word;

type Slice = EndianSlice<'static, LittleEndian>;

/// Where a loaded object's unwind tables are, for the code segment that held the
/// address asked about.
#[derive(Clone, Copy)]
struct Tables {
    /// That code segment, `[start, end)`: later frames in it reuse these tables.
    code: (usize, usize),
    /// `.eh_frame_hdr` (the `PT_GNU_EH_FRAME` segment).
    hdr: usize,
    hdr_len: usize,
    /// One past the end of the loaded segment holding `.eh_frame`.
    segment_end: usize,
}

struct Search {
    probe: usize,
    found: Option<Tables>,
}

unsafe extern "C" fn find_tables(
    info: *mut libc::dl_phdr_info,
    _size: usize,
    data: *mut c_void,
) -> c_int {
    // SAFETY: `data` is the `&mut Search` passed by `tables_for`, and `info` is valid
    // for the duration of the callback per dl_iterate_phdr.
    let (search, info) = unsafe { (&mut *data.cast::<Search>(), &*info) };
    if info.dlpi_phdr.is_null() {
        return 0;
    }
    // SAFETY: the loader guarantees `dlpi_phnum` headers at `dlpi_phdr`.
    let phdrs =
        unsafe { core::slice::from_raw_parts(info.dlpi_phdr, usize::from(info.dlpi_phnum)) };
    let bias = info.dlpi_addr as usize;
    let seg = |p: &libc::Elf64_Phdr| {
        let start = bias.wrapping_add(p.p_vaddr as usize);
        (start, start.wrapping_add(p.p_memsz as usize))
    };
    let holds = |p: &&libc::Elf64_Phdr, a: usize| {
        let (s, e) = seg(p);
        p.p_type == libc::PT_LOAD && (s..e).contains(&a)
    };
    let Some(code) = phdrs.iter().find(|p| holds(p, search.probe)) else {
        return 0;
    };
    let code = seg(code);
    let Some(hdr) = phdrs.iter().find(|p| p.p_type == libc::PT_GNU_EH_FRAME) else {
        return 1; // the object holding the address has no unwind tables
    };
    let (hdr_start, hdr_end) = seg(hdr);
    // `.eh_frame` follows `.eh_frame_hdr` in the same read-only segment (both linkers
    // lay them out so); its end bounds what is read.
    let segment_end = phdrs
        .iter()
        .filter(|p| holds(p, hdr_start))
        .map(|p| seg(p).1)
        .next()
        .unwrap_or(hdr_end);
    search.found = Some(Tables {
        code,
        hdr: hdr_start,
        hdr_len: hdr_end - hdr_start,
        segment_end,
    });
    1
}

fn tables_for(pc: usize) -> Option<Tables> {
    let mut search = Search {
        probe: pc,
        found: None,
    };
    // SAFETY: the callback matches dl_iterate_phdr's signature; `data` points to
    // `search`, which outlives the call.
    unsafe {
        libc::dl_iterate_phdr(Some(find_tables), (&raw mut search).cast::<c_void>());
    }
    search.found
}

/// Unwind-context storage inline (no allocation): x86-64 rows have at most 17
/// register rules and call sites need no remembered-state stack deeper than 2.
struct StoreOnStack;

impl<T: ReaderOffset> UnwindContextStorage<T> for StoreOnStack {
    type Rules = [(Register, RegisterRule<T>); 24];
    type Stack = [UnwindTableRow<T, Self>; 2];
}

/// The unwind rule of the return address `pc` from its object's `.eh_frame`:
/// [`UnwindRule::FramePointer`] where the object has no unwind information for it,
/// `None` where the tables could not be read (no rule to cache). Allocates nothing;
/// takes the loader's lock (`dl_iterate_phdr`) and a few KiB of stack.
pub fn rule_for(pc: usize) -> Option<UnwindRule> {
    if pc == 0 {
        return Some(UnwindRule::Stop);
    }
    let Some(t) = tables_for(pc) else {
        return Some(UnwindRule::FramePointer);
    };
    // SAFETY: as in `cfi_step`: the PT_GNU_EH_FRAME segment of a loaded object is
    // mapped and read-only while it is loaded.
    let hdr_bytes = unsafe { core::slice::from_raw_parts(t.hdr as *const u8, t.hdr_len) };
    let bases = BaseAddresses::default().set_eh_frame_hdr(t.hdr as u64);
    let hdr = EhFrameHdr::new(hdr_bytes, LittleEndian)
        .parse(&bases, 8)
        .ok()?;
    let eh_frame_at = match hdr.eh_frame_ptr() {
        Pointer::Direct(a) => a as usize,
        Pointer::Indirect(_) => return None,
    };
    if eh_frame_at < t.hdr || eh_frame_at >= t.segment_end {
        return None;
    }
    // SAFETY: `.eh_frame` lies in the same loaded segment, up to its end.
    let eh_bytes = unsafe {
        core::slice::from_raw_parts(eh_frame_at as *const u8, t.segment_end - eh_frame_at)
    };
    let eh_frame: EhFrame<Slice> = EhFrame::new(eh_bytes, LittleEndian);
    let bases = bases.set_eh_frame(eh_frame_at as u64);
    let table = hdr.table()?;
    let mut ctx = UnwindContext::<usize, StoreOnStack>::new_in();
    let row = match table.unwind_info_for_address(
        &eh_frame,
        &bases,
        &mut ctx,
        (pc - 1) as u64,
        EhFrame::cie_from_offset,
    ) {
        Ok(row) => row,
        // No FDE covers the address (hand-written code, JIT): the chain.
        Err(addr2line::gimli::Error::NoUnwindInfoForAddress) => {
            return Some(UnwindRule::FramePointer)
        }
        Err(_) => return None,
    };
    Some(rule_of_row(
        row.cfa(),
        row.register(X86_64::RA),
        row.register(X86_64::RBP),
    ))
}

/// The [`UnwindRule`] of one CFI row (its CFA, return-address and rbp rules).
fn rule_of_row(
    cfa: &CfaRule<usize>,
    ra: Option<RegisterRule<usize>>,
    rbp: Option<RegisterRule<usize>>,
) -> UnwindRule {
    let (register, offset) = match *cfa {
        CfaRule::RegisterAndOffset { register, offset } => (register, offset),
        CfaRule::Expression(_) => return UnwindRule::Stop,
    };
    match ra {
        Some(RegisterRule::Offset(-8)) => {}
        _ => return UnwindRule::Stop,
    }
    if register == X86_64::RBP {
        return if offset == 16 && rbp == Some(RegisterRule::Offset(-16)) {
            UnwindRule::FramePointer
        } else {
            UnwindRule::Stop
        };
    }
    if register != X86_64::RSP || offset < 8 || offset % 8 != 0 {
        return UnwindRule::Stop;
    }
    let rbp_at = match rbp {
        Some(RegisterRule::Offset(o)) if o < 0 => Some((-o) as u32),
        Some(RegisterRule::SameValue) | None => None,
        _ => return UnwindRule::Stop,
    };
    UnwindRule::Cfa {
        sp_offset: offset as u32,
        rbp_at,
    }
}

/// One step: the caller's (pc, sp, rbp) from the CFI of the function that the return
/// address `pc` is in.
fn cfi_step(
    pc: usize,
    sp: usize,
    rbp: usize,
    ctx: &mut UnwindContext<usize>,
    last: &mut Option<Tables>,
) -> Option<(usize, usize, usize)> {
    // Consecutive frames are mostly in one object: ask the loader only on a change.
    let t = match *last {
        Some(t) if (t.code.0..t.code.1).contains(&pc) => t,
        _ => {
            let t = tables_for(pc)?;
            *last = Some(t);
            t
        }
    };
    // SAFETY: the PT_GNU_EH_FRAME segment of a loaded object is mapped and read-only
    // while the object is loaded (a report does not race with dlclose of the code it
    // is walking through).
    let hdr_bytes = unsafe { core::slice::from_raw_parts(t.hdr as *const u8, t.hdr_len) };
    let bases = BaseAddresses::default().set_eh_frame_hdr(t.hdr as u64);
    let hdr = EhFrameHdr::new(hdr_bytes, LittleEndian)
        .parse(&bases, 8)
        .ok()?;
    let eh_frame_at = match hdr.eh_frame_ptr() {
        Pointer::Direct(a) => a as usize,
        Pointer::Indirect(_) => return None,
    };
    if eh_frame_at < t.hdr || eh_frame_at >= t.segment_end {
        return None;
    }
    // SAFETY: `.eh_frame` lies in the same loaded segment, up to its end.
    let eh_bytes = unsafe {
        core::slice::from_raw_parts(eh_frame_at as *const u8, t.segment_end - eh_frame_at)
    };
    let eh_frame: EhFrame<Slice> = EhFrame::new(eh_bytes, LittleEndian);
    let bases = bases.set_eh_frame(eh_frame_at as u64);
    let table = hdr.table()?;
    let row = table
        .unwind_info_for_address(
            &eh_frame,
            &bases,
            ctx,
            (pc - 1) as u64,
            EhFrame::cie_from_offset,
        )
        .ok()?;
    let cfa = match *row.cfa() {
        CfaRule::RegisterAndOffset { register, offset } => {
            let base = if register == X86_64::RSP {
                sp
            } else if register == X86_64::RBP {
                rbp
            } else {
                return None;
            };
            base.wrapping_add_signed(offset as isize)
        }
        CfaRule::Expression(_) => return None,
    };
    let ra = match row.register(X86_64::RA) {
        Some(RegisterRule::Offset(o)) => read_word(cfa.wrapping_add_signed(o as isize))?,
        // The outermost frame (`_start`, a thread's entry) marks its return address
        // undefined (or gives it no rule).
        Some(RegisterRule::Undefined) | None => 0,
        _ => return None,
    };
    // A callee-saved register without a rule keeps its value.
    let caller_rbp = match row.register(X86_64::RBP) {
        Some(RegisterRule::Offset(o)) => read_word(cfa.wrapping_add_signed(o as isize))?,
        Some(RegisterRule::Undefined | RegisterRule::SameValue) | None => rbp,
        _ => return None,
    };
    Some((ra, cfa, caller_rbp))
}

/// Return addresses of the frames above the frame at `fp` (whose return address comes
/// first, as in [`crate::task::save_stack`]), unwound by CFI where it exists and by
/// the frame-pointer rule where not; the number stored.
pub fn walk(fp: usize, out: &mut [usize]) -> usize {
    let (Some(rbp0), Some(pc0)) = (read_word(fp), read_word(fp.wrapping_add(8))) else {
        return 0;
    };
    let mut ctx = UnwindContext::new();
    let mut last = None;
    let (mut pc, mut sp, mut rbp) = (pc0, fp + 16, rbp0);
    let mut n = 0;
    while n < out.len() && pc != 0 {
        out[n] = pc;
        n += 1;
        let next = cfi_step(pc, sp, rbp, &mut ctx, &mut last).or_else(|| {
            // No CFI for this code: the frame-pointer rule, if rbp looks like a frame.
            if rbp & 7 != 0 || rbp < sp {
                return None;
            }
            Some((read_word(rbp + 8)?, rbp + 16, read_word(rbp)?))
        });
        let Some((npc, nsp, nrbp)) = next else { break };
        if nsp <= sp {
            break;
        }
        (pc, sp, rbp) = (npc, nsp, nrbp);
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every return address of a walk from here (this crate's frames, std's test
    /// harness built without frame pointers, libc's thread start) has a rule read from
    /// its tables, and the walk through those rules reaches the thread's start.
    #[test]
    fn every_frame_of_this_thread_has_a_rule() {
        let mut out = [0usize; 64];
        let n = crate::task::save_stack(crate::task::frame_pointer(), 0, &mut out);
        assert!(n >= 4, "walked {n} frames");
        for &pc in &out[..n] {
            let rule = rule_for(pc);
            assert!(rule.is_some(), "no rule for {pc:#x}");
        }
        // The outermost frame of a thread is clone3's or start_thread's: a Stop rule
        // or a zero return address ended the walk, not a lost chain.
        assert_eq!(rule_for(0), Some(UnwindRule::Stop));
        let frameless = out[..n]
            .iter()
            .filter(|&&pc| matches!(rule_for(pc), Some(UnwindRule::Cfa { .. })))
            .count();
        assert!(frameless >= 1, "no frame without a frame pointer among {n}");
    }
}
