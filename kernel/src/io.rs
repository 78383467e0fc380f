//! Port I/O and the few privileged instructions the kernel uses (platform code):
//! the COM1 serial console, QEMU's isa-debug-exit device, the TSC, `invlpg`.
#![allow(unsafe_code)]

const COM1: u16 = 0x3f8;
/// QEMU's `-device isa-debug-exit,iobase=0xf4,iosize=0x04`: writing `v` ends QEMU
/// with exit status `2 * v + 1`.
const DEBUG_EXIT: u16 = 0xf4;

fn outb(port: u16, v: u8) {
    // SAFETY: port output has no memory effects; the ports used are the UART's and
    // QEMU's exit device.
    unsafe { core::arch::asm!("out dx, al", in("dx") port, in("al") v, options(nomem, nostack)) };
}

fn inb(port: u16) -> u8 {
    let v: u8;
    // SAFETY: as `outb`.
    unsafe { core::arch::asm!("in al, dx", out("al") v, in("dx") port, options(nomem, nostack)) };
    v
}

/// 115200 8N1, FIFO on.
pub fn serial_init() {
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x80);
    outb(COM1, 0x01);
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03);
    outb(COM1 + 2, 0xC7);
    outb(COM1 + 4, 0x03);
}

/// Writes bytes to the serial port (polling: works with the world stopped).
pub fn serial_write(bytes: &[u8]) {
    for &b in bytes {
        if b == b'\n' {
            put(b'\r');
        }
        put(b);
    }
}

fn put(b: u8) {
    while inb(COM1 + 5) & 0x20 == 0 {
        core::hint::spin_loop();
    }
    outb(COM1, b);
}

/// Ends QEMU with exit status `2 * code + 1`; halts if the device is absent.
pub fn qemu_exit(code: u8) -> ! {
    outb(DEBUG_EXIT, code);
    loop {
        // SAFETY: `cli; hlt` stops this CPU; nothing runs after it.
        unsafe { core::arch::asm!("cli", "hlt", options(nomem, nostack)) };
    }
}

/// The time stamp counter.
pub fn rdtsc() -> u64 {
    // SAFETY: rdtsc only reads the counter.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// Calibrates the TSC against the PIT (channel 2, 10 ms one-shot): ticks per ms.
pub fn tsc_per_ms() -> u64 {
    // Gate on, speaker off; channel 2, mode 0, lobyte/hibyte; count 11932 (10 ms).
    outb(0x61, (inb(0x61) & !0x02) | 0x01);
    outb(0x43, 0xB0);
    outb(0x42, (11932 & 0xff) as u8);
    outb(0x42, (11932 >> 8) as u8);
    let t0 = rdtsc();
    while inb(0x61) & 0x20 == 0 {
        core::hint::spin_loop();
    }
    ((rdtsc() - t0) / 10).max(1)
}

/// Flushes the TLB entry of one page.
pub fn invlpg(va: usize) {
    // SAFETY: invlpg only drops a TLB entry.
    unsafe { core::arch::asm!("invlpg [{}]", in(reg) va, options(nostack, preserves_flags)) };
}

/// The frame pointer of the caller's frame (rbp).
#[inline(always)]
pub fn frame_pointer() -> usize {
    let fp: usize;
    // SAFETY: reads a register.
    unsafe {
        core::arch::asm!("mov {}, rbp", out(reg) fp, options(nomem, nostack, preserves_flags))
    };
    fp
}

/// The stack pointer.
#[inline(always)]
pub fn stack_pointer() -> usize {
    let sp: usize;
    // SAFETY: reads a register.
    unsafe {
        core::arch::asm!("mov {}, rsp", out(reg) sp, options(nomem, nostack, preserves_flags))
    };
    sp
}

/// CR2: the address of the last page fault.
pub fn cr2() -> usize {
    let v: usize;
    // SAFETY: reads a control register (ring 0).
    unsafe {
        core::arch::asm!("mov {}, cr2", out(reg) v, options(nomem, nostack, preserves_flags))
    };
    v
}
