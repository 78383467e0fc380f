//! The contract between the core and its host, for every mode.
//!
//! Shadow placement is not here: a host hands the core a [`crate::shadow::Shadow`]
//! describing where its shadow lives. What remains is what a report needs from the
//! world: who is running, on which CPU, where text goes, how a code address becomes a
//! name, how to read a word of memory that may not be mapped, and how to stop.
//! Every method must work with the report lock held and must not allocate from the
//! sanitized heap or run instrumented code.

/// A task (thread) as a report names it: `comm/pid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Task {
    /// The task id (a Linux thread id in a hosted process).
    pub pid: u32,
    comm: [u8; 16],
    comm_len: u8,
}

impl Task {
    /// No task (a placeholder before one is known).
    pub const EMPTY: Task = Task {
        pid: 0,
        comm: [0; 16],
        comm_len: 0,
    };

    /// A task with `comm` truncated to 15 bytes, as Linux's `TASK_COMM_LEN`. A
    /// control byte (a newline...) becomes `?`, so a name never splits a report
    /// line; so does every byte of a name that is not UTF-8.
    pub fn new(pid: u32, comm: &[u8]) -> Task {
        let len = comm
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(comm.len())
            .min(15);
        let mut buf = [0; 16];
        for (d, &b) in buf.iter_mut().zip(&comm[..len]) {
            *d = if b < 0x20 || b == 0x7f { b'?' } else { b };
        }
        if core::str::from_utf8(&buf[..len]).is_err() {
            for b in &mut buf[..len] {
                if *b >= 0x80 {
                    *b = b'?';
                }
            }
        }
        Task {
            pid,
            comm: buf,
            comm_len: len as u8,
        }
    }

    /// The task's command name.
    pub fn comm(&self) -> &str {
        core::str::from_utf8(&self.comm[..self.comm_len as usize]).unwrap_or("?")
    }
}

/// A resolved code or data address.
#[derive(Debug, Clone, Copy)]
pub struct Symbol<'a> {
    /// The function or variable name, demangled.
    pub name: &'a str,
    /// Bytes from the symbol's start.
    pub offset: usize,
    /// The symbol's size, 0 when unknown.
    pub size: usize,
    /// Source file, when debug information has it.
    pub file: Option<&'a str>,
    /// Source line, when debug information has it.
    pub line: Option<u32>,
}

/// Services the core needs from its host.
pub trait Platform: Sync {
    /// The running task.
    fn task(&self) -> Task;
    /// The CPU the caller runs on.
    fn cpu(&self) -> u32;
    /// A monotonic clock in nanoseconds.
    fn now_ns(&self) -> u64;
    /// Writes report text; must work with the world stopped and never allocate.
    fn write(&self, text: &[u8]);
    /// Resolves `pc` and calls `f` with the result (not at all if unknown). A return
    /// address (`is_return`) is looked up at `pc - 1` and its offset counted from `pc`.
    fn symbolize(&self, pc: usize, is_return: bool, f: &mut dyn FnMut(&Symbol<'_>));
    /// Calls `f` for each function inlined at `pc`, innermost first (name, and the
    /// file and line where its code is), leaving out the function `symbolize`
    /// names. Hosts without inlining information call nothing.
    fn inlined(&self, _pc: usize, _is_return: bool, _f: &mut dyn FnMut(&Symbol<'_>)) {}
    /// Reads one word of memory that may be unmapped, without faulting.
    fn read_word(&self, addr: usize) -> Option<usize>;
    /// Stops everything after printing `message` (`kasan.fault=panic`).
    fn halt(&self, message: &str) -> !;
    /// The effective user id of the task (the `UID:` of the `CPU:` line).
    fn uid(&self) -> u32 {
        0
    }
    /// The process's id (its thread group id, `tgid`), 0 when unknown.
    fn tgid(&self) -> u32 {
        0
    }
    /// The machine, as Linux's `Hardware name:` line names it (DMI vendor, product,
    /// board and BIOS); `None` when unknown (the line is then left out, as Linux
    /// leaves it out without an architecture description).
    fn hardware_name(&self) -> Option<&str> {
        None
    }
    /// The page frame number of the page holding `addr` (the report's `pfn:`);
    /// default: the address's page number (a process has no physical addresses to
    /// tell). A kernel translates its direct map or walks its page tables.
    fn page_frame(&self, addr: usize) -> usize {
        addr >> 12
    }
    /// Runs `f` on a stack kept for reports, so that a report needs little of the
    /// stack of the code that hit the bug (a coroutine's, a signal stack). Called
    /// with the report lock held and never re-entered (bugs raised during a report
    /// are queued), so one such stack serves every task. Hosts without one run `f`
    /// where they are.
    fn on_report_stack(&self, f: &mut dyn FnMut()) {
        f()
    }
}
