//! Running a command with a time limit and capturing its output.

use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::spec::Exit;

/// What a finished (or killed) command left behind.
#[derive(Debug, Clone)]
pub struct Output {
    /// Its process id (also its process group id).
    pub pid: u32,
    /// How it ended; `None` if it was killed for exceeding its time limit.
    pub exit: Option<Exit>,
    /// Standard output, lossily decoded.
    pub stdout: String,
    /// Standard error, lossily decoded.
    pub stderr: String,
    /// How long it ran.
    pub elapsed: Duration,
}

fn exit_of(status: ExitStatus) -> Exit {
    match (status.code(), status.signal()) {
        (Some(c), _) => Exit::Code(c),
        (None, Some(s)) => Exit::Signal(s),
        (None, None) => Exit::Code(-1),
    }
}

fn reader(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        // A read error just ends the capture; what was read is kept.
        let _ = pipe.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    })
}

/// Runs `cmd` in a process group of its own with stdin closed; after `timeout` the
/// whole group is killed. Stdout and stderr are read concurrently, so a chatty child
/// never blocks on a full pipe.
pub fn run(cmd: &mut Command, timeout: Duration) -> std::io::Result<Output> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let start = Instant::now();
    let mut child = cmd.spawn()?;
    let pid = child.id();
    let out = reader(child.stdout.take().expect("piped"));
    let err = reader(child.stderr.take().expect("piped"));
    let exit = loop {
        if let Some(status) = child.try_wait()? {
            break Some(exit_of(status));
        }
        if start.elapsed() > timeout {
            // The group, so that forked children go too; then reap ours.
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .stderr(Stdio::null())
                .status();
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(5));
    };
    let elapsed = start.elapsed();
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    Ok(Output {
        pid,
        exit,
        stdout,
        stderr,
        elapsed,
    })
}

/// Whether `program --version` runs successfully.
pub fn available(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_and_times_out() {
        let o = run(
            Command::new("sh").args(["-c", "echo out; echo err >&2; exit 3"]),
            Duration::from_secs(10),
        )
        .unwrap();
        assert_eq!(
            (o.stdout.as_str(), o.stderr.as_str(), o.exit),
            ("out\n", "err\n", Some(Exit::Code(3)))
        );
        let o = run(
            Command::new("sh").args(["-c", "kill -SEGV $$"]),
            Duration::from_secs(10),
        )
        .unwrap();
        assert_eq!(o.exit, Some(Exit::Signal(11)));
        let o = run(
            Command::new("sh").args(["-c", "sleep 30 & sleep 30"]),
            Duration::from_millis(200),
        )
        .unwrap();
        assert_eq!(o.exit, None);
        assert!(o.elapsed < Duration::from_secs(10));
    }
}
