//! Child processes measured from the outside: wall time, and peak RSS from `wait4` (which std's
//! `wait` does not report).

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{ROUNDS, WORKER_ENV};

/// `replay --dry-run` of the release binary when it works, else this benchmark as a worker.
pub fn child_command() -> (String, Command) {
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_sluice-forwarder"));
    let probe = Command::new(&binary)
        .args(["replay", "--help"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if matches!(probe, Ok(status) if status.success()) {
        let mut command = Command::new(binary);
        command
            .args(["replay", "--dry-run"])
            .env("AWS_REGION", "us-east-1");
        return ("replay --dry-run".to_owned(), command);
    }
    println!(
        "  (sluice-forwarder has no working `replay` yet: measuring the library pipeline in a child process)"
    );
    let command = Command::new(std::env::current_exe().expect("the benchmark knows its own path"));
    ("library pipeline".to_owned(), command)
}

pub fn best_child(command: &Command, file: &Path) -> (Duration, u64) {
    let mut fastest = Duration::MAX;
    let mut peak_kb = 0;
    for _ in 0..ROUNDS {
        let (time, rss) = run_child(command, file);
        fastest = fastest.min(time);
        peak_kb = peak_kb.max(rss);
    }
    (fastest, peak_kb)
}

/// Runs the command on `file` with stdout discarded; its wall time and peak RSS in KiB.
pub fn run_child(template: &Command, file: &Path) -> (Duration, u64) {
    let mut command = Command::new(template.get_program());
    command.args(template.get_args());
    for (key, value) in template.get_envs() {
        if let Some(value) = value {
            command.env(key, value);
        }
    }
    if template.get_args().next().is_some() {
        command.arg(file);
    } else {
        command.env(WORKER_ENV, file);
    }
    let measured = measure(&mut command, Stdio::piped());
    if !measured.success {
        let mut stderr = String::new();
        if let Some(mut pipe) = measured.child.stderr {
            let _ = io::Read::read_to_string(&mut pipe, &mut stderr);
        }
        panic!(
            "{:?} failed with status {}: {stderr}",
            command.get_program(),
            measured.status
        );
    }
    (measured.elapsed, measured.peak_kb)
}

/// A child that has exited, measured.
pub struct Measured {
    pub elapsed: Duration,
    /// Peak RSS in KiB (Linux reports `ru_maxrss` in KiB).
    pub peak_kb: u64,
    pub success: bool,
    pub status: i32,
    /// Already reaped: only its pipes are of use.
    pub child: std::process::Child,
}

/// Starts `command` with stdout discarded and `stderr` where given, and waits for it with
/// `wait4`.
pub fn measure(command: &mut Command, stderr: Stdio) -> Measured {
    let start = Instant::now();
    // Reaped by wait4 below, which also reports the peak RSS that std's wait does not.
    let child = command
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("start the child");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child; both pointers are valid for the call.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let elapsed = start.elapsed();
    assert_eq!(waited, pid, "wait4 failed: {}", io::Error::last_os_error());
    Measured {
        elapsed,
        peak_kb: usage.ru_maxrss as u64,
        success: libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        status,
        child,
    }
}
