//! Child processes measured from the outside: wall time, and peak RSS, the high-water mark of
//! the child's own memory (`VmHWM` in `/proc/PID/status`, read until it exits).
//!
//! Not `wait4`'s `ru_maxrss`: Linux starts a child that execs straight after `vfork` (std's
//! `Command` does) with the parent's peak RSS as its own, so `ru_maxrss` never reads less than
//! this benchmark's own peak. It is kept beside, to show the difference.

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
    /// The child's own peak RSS in KiB: `VmHWM` of its `/proc/PID/status`.
    pub peak_kb: u64,
    /// `wait4`'s `ru_maxrss` in KiB, which has this benchmark's peak as its floor.
    pub maxrss_kb: u64,
    /// The CPU time of the child, user and system, on all its threads (`wait4`'s rusage).
    pub cpu: Duration,
    /// The child's minor page faults (`wait4`'s `ru_minflt`): pages it touched for the first time
    /// or again after the allocator gave them back.
    pub minor_faults: u64,
    pub success: bool,
    pub status: i32,
    /// Already reaped: only its pipes are of use.
    pub child: std::process::Child,
}

/// Starts `command` with stdout discarded and `stderr` where given, reads its `VmHWM` every
/// millisecond until it exits, and reaps it with `wait4`.
pub fn measure(command: &mut Command, stderr: Stdio) -> Measured {
    let start = Instant::now();
    // Reaped by wait4 below, which `Child` does not know of.
    let child = command
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("start the child");
    let pid = child.id() as libc::pid_t;
    let status_file = format!("/proc/{pid}/status");
    let (mut peak_kb, mut status) = (0, 0);
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        if let Ok(text) = std::fs::read_to_string(&status_file) {
            peak_kb = peak_kb.max(field_kb(&text, "VmHWM:"));
        }
        // SAFETY: polls our own child, reaped here (not by `Child`); both pointers are valid.
        match unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) } {
            0 => std::thread::sleep(Duration::from_millis(1)),
            waited if waited == pid => break,
            _ => panic!("wait4 failed: {}", io::Error::last_os_error()),
        }
    }
    Measured {
        elapsed: start.elapsed(),
        peak_kb,
        maxrss_kb: usage.ru_maxrss as u64,
        cpu: timeval(usage.ru_utime) + timeval(usage.ru_stime),
        minor_faults: usage.ru_minflt as u64,
        success: libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        status,
        child,
    }
}

fn timeval(time: libc::timeval) -> Duration {
    Duration::from_secs(time.tv_sec as u64) + Duration::from_micros(time.tv_usec as u64)
}

/// A `kB` field of a `/proc/PID/status` text (`VmHWM:    23456 kB`); 0 when it is not there.
pub fn field_kb(status: &str, name: &str) -> u64 {
    status
        .lines()
        .find_map(|line| line.strip_prefix(name))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
