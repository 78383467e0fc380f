//! Turning a child's exit status into ours, the way a shell reports it.

use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

/// The exit code to pass on: the child's own, or 128 + the signal that killed it (what a
/// shell shows in `$?`), so `kasan run` under `kasan.fault=panic` exits 134 (SIGABRT).
pub fn exit_code(status: ExitStatus) -> i32 {
    match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(signal)) => 128 + signal,
        // Neither exited nor killed (stopped): only possible with ptrace tricks.
        (None, None) => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_signals() {
        // A wait status: exit code in bits 8..16, terminating signal in bits 0..7.
        assert_eq!(exit_code(ExitStatus::from_raw(3 << 8)), 3);
        assert_eq!(exit_code(ExitStatus::from_raw(0)), 0);
        assert_eq!(exit_code(ExitStatus::from_raw(6)), 134);
        assert_eq!(exit_code(ExitStatus::from_raw(11)), 139);
    }
}
